package io.tern.local;

import io.tern.broker.Broker;
import io.tern.broker.config.BrokerConfig;
import io.tern.bypass.BypassConsumer;
import io.tern.bypass.config.BypassConfig;
import io.tern.dispatcher.Dispatcher;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.logic.LogicNode;
import io.tern.logic.config.LogicConfig;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.GlobalScheduler;
import io.tern.scheduler.config.SchedulerConfig;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every role on this machine, wired to a given Redis and Kafka: a dispatcher, N brokers spread over
 * regions, M logic nodes and, when asked, the global scheduler that knows those regions. Used by the local runner and by end-to-end tests (with port 0 everywhere).
 * Broker i (from 1) takes the configured broker ports plus i-1, so brokers never collide; logic node k
 * (from 1) takes {@code logic.port} plus 3(k-1) (8080, 8083, ..), stepping over the dispatcher's 8081 and
 * the global scheduler's 8082, and is {@code logic.id} l{k}.
 */
public final class LocalCluster implements AutoCloseable {
    /** Ports between one logic node and the next: 8080, 8083, .. never lands on 8081 or 8082. */
    static final int LOGIC_PORT_STEP = 3;

    private final Settings settings;
    private final Layout layout;
    private final Dispatcher dispatcher;
    private final List<Broker> brokers = new ArrayList<>();
    private final List<LogicNode> logicNodes = new ArrayList<>();
    private final GlobalScheduler scheduler;
    private final RateController rateController;
    private final BypassConsumer bypassConsumer;

    /**
     * What runs: {@code brokers} brokers, broker i in {@code regions[(i-1) % size]} (empty: every broker in
     * {@code broker.region}), {@code logicNodes} logic nodes and, with {@code scheduler}, a global scheduler
     * whose {@code scheduler.regions} default to {@code regions}; with {@code throttling}, the issue-11 roles:
     * a rate controller (SRE token: the scheduler's unless {@code ratecontrol.sre-token} is set) and one bypass
     * consumer draining {@code tern.buffer}.
     */
    public record Layout(int brokers, List<String> regions, int logicNodes, boolean scheduler, boolean throttling) {
        public Layout {
            regions = List.copyOf(regions);
            if (brokers < 1 || logicNodes < 1) {
                throw new IllegalArgumentException("at least one broker and one logic node, got " + brokers + " and " + logicNodes);
            }
        }

        /** Every broker in the brokers' configured region, one logic node. */
        public static Layout oneRegion(int brokers) {
            return new Layout(brokers, List.of(), 1, false, false);
        }

        /** The region of broker {@code n} (from 1), or null for {@code broker.region}. */
        public String regionOf(int n) {
            return regions.isEmpty() ? null : regions.get((n - 1) % regions.size());
        }
    }

    private LocalCluster(Settings settings, Layout layout) {
        this.settings = settings;
        this.layout = layout;
        // Brokers first: the dispatcher's first registry read then already lists them.
        for (int i = 1; i <= layout.brokers(); i++) {
            brokers.add(startBroker(i));
        }
        dispatcher = Dispatcher.start(DispatcherConfig.from(settings));
        SchedulerConfig schedulerConfig = layout.scheduler() ? SchedulerConfig.from(schedulerSettings()) : null;
        rateController = layout.throttling()
                ? RateController.start(RateControllerConfig.from(controllerSettings(schedulerConfig))) : null;
        // The scheduler's console reads the throttle through it: point it at this controller (port 0 in tests).
        if (schedulerConfig != null && rateController != null && settings.string("scheduler.controller-url", null) == null) {
            InetSocketAddress c = rateController.address();
            schedulerConfig = schedulerConfig.withControllerUrl(
                    URI.create("http://" + c.getHostString() + ":" + c.getPort()));
        }
        scheduler = schedulerConfig == null ? null : GlobalScheduler.start(schedulerConfig);
        for (int k = 1; k <= layout.logicNodes(); k++) {
            logicNodes.add(LogicNode.start(logicConfig(k)));
        }
        bypassConsumer = layout.throttling() ? BypassConsumer.start(BypassConfig.from(settings)) : null;
    }

    /** One SRE token for every admin API on this machine: the scheduler's, unless the controller has its own (logic nodes likewise). */
    private Settings controllerSettings(SchedulerConfig scheduler) {
        if (scheduler == null || settings.string("ratecontrol.sre-token", null) != null) {
            return settings;
        }
        return settings.with(Map.of("ratecontrol.sre-token", scheduler.sreToken()));
    }

    /**
     * @param settings role settings; must carry the Redis and Kafka addresses for every role
     *                 ({@link #wire(Settings, String, String)} does that)
     */
    public static LocalCluster start(Settings settings, Layout layout) {
        return new LocalCluster(settings, layout);
    }

    /** One region of {@code brokerCount} brokers and one logic node. */
    public static LocalCluster start(Settings settings, int brokerCount) {
        return start(settings, Layout.oneRegion(brokerCount));
    }

    /** Points every role at one Redis and one Kafka. */
    public static Settings wire(Settings settings, String redisUri, String kafkaBootstrap) {
        Map<String, String> w = new HashMap<>();
        for (String role : List.of("dispatcher", "broker", "logic", "scheduler", "ratecontrol", "bypass")) {
            w.put(role + ".redis-uri", redisUri);
        }
        for (String kafkaUser : List.of("broker", "logic", "bypass", "ratecontrol.scale")) {
            w.put(kafkaUser + ".kafka-bootstrap", kafkaBootstrap);
        }
        return settings.with(w);
    }

    /** Starts broker number {@code n} (1-based): id b{n}, its layout region, ports offset by n-1 unless they are 0. */
    public Broker startBroker(int n) {
        BrokerConfig base = BrokerConfig.from(settings);
        Map<String, String> own = new HashMap<>();
        own.put("broker.id", "b" + n);
        if (layout.regionOf(n) != null) {
            own.put("broker.region", layout.regionOf(n));
        }
        for (String port : List.of("tcp-port", "ws-port", "internal-port", "admin-port")) {
            int p = settings.integer("broker." + port, -1);
            int basePort = p >= 0 ? p : defaultPort(base, port);
            own.put("broker." + port, Integer.toString(basePort == 0 ? 0 : basePort + n - 1));
        }
        return Broker.start(BrokerConfig.from(settings.with(own)));
    }

    private static int defaultPort(BrokerConfig c, String key) {
        return switch (key) {
            case "tcp-port" -> c.tcpPort();
            case "ws-port" -> c.wsPort();
            case "internal-port" -> c.internalPort();
            default -> c.adminPort();
        };
    }

    public Dispatcher dispatcher() {
        return dispatcher;
    }

    public List<Broker> brokers() {
        return List.copyOf(brokers);
    }

    private Settings schedulerSettings() {
        if (layout.regions().isEmpty() || settings.string("scheduler.regions", null) != null) {
            return settings;
        }
        return settings.with(Map.of("scheduler.regions", String.join(",", layout.regions())));
    }

    /** Logic node k (from 1): id l{k}, port {@code logic.port} + 3(k-1) unless it is 0. */
    private LogicConfig logicConfig(int k) {
        int port = settings.integer("logic.port", -1);
        int basePort = port >= 0 ? port : LogicConfig.from(settings).http().port();
        Map<String, String> own = new java.util.HashMap<>(Map.of("logic.id", "l" + k,
                "logic.port", Integer.toString(basePort == 0 ? 0 : basePort + LOGIC_PORT_STEP * (k - 1))));
        if (scheduler != null && settings.string("logic.sre-token", null) == null) {
            own.put("logic.sre-token", scheduler.config().sreToken()); // ternctl app/task with the one local token
        }
        return LogicConfig.from(settings.with(own));
    }

    /** The first logic node (l1). */
    public LogicNode logic() {
        return logicNodes.get(0);
    }

    public List<LogicNode> logicNodes() {
        return List.copyOf(logicNodes);
    }

    /** The global scheduler, or null when the layout has none. */
    public GlobalScheduler scheduler() {
        return scheduler;
    }

    /** The rate controller, or null when the layout has none. */
    public RateController rateController() {
        return rateController;
    }

    /** The bypass consumer, or null when the layout has none. */
    public BypassConsumer bypassConsumer() {
        return bypassConsumer;
    }

    /** Stops the first logic node and starts a new one with the same settings (a restart). */
    public LogicNode restartLogic() {
        logicNodes.get(0).close();
        LogicNode restarted = LogicNode.start(logicConfig(1));
        logicNodes.set(0, restarted);
        return restarted;
    }

    /** Stops one broker as an operator would (devices are told to re-dispatch). */
    public void stopBroker(Broker broker) {
        broker.close();
        brokers.remove(broker);
    }

    @Override
    public void close() {
        // Reverse of start: the drain and the API first, so nothing new arrives while brokers go.
        if (bypassConsumer != null) {
            bypassConsumer.close();
        }
        for (int k = logicNodes.size() - 1; k >= 0; k--) {
            logicNodes.get(k).close();
        }
        if (rateController != null) {
            rateController.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
        for (int i = brokers.size() - 1; i >= 0; i--) {
            brokers.get(i).close();
        }
        dispatcher.close();
    }
}
