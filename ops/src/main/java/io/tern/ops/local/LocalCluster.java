package io.tern.ops.local;

import io.tern.broker.Broker;
import io.tern.broker.config.BrokerConfig;
import io.tern.dispatcher.Dispatcher;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.logic.LogicNode;
import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.Settings;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every role of one region on this machine, wired to a given Redis and Kafka: a dispatcher, N
 * brokers, a logic node. Used by the local runner and by end-to-end tests (with port 0 everywhere).
 * Broker i (from 1) takes the configured broker ports plus i-1, so brokers never collide.
 */
public final class LocalCluster implements AutoCloseable {
    private final Settings settings;
    private final Dispatcher dispatcher;
    private final List<Broker> brokers = new ArrayList<>();
    private LogicNode logic;

    private LocalCluster(Settings settings, int brokerCount) {
        this.settings = settings;
        // Brokers first: the dispatcher's first registry read then already lists them.
        for (int i = 1; i <= brokerCount; i++) {
            brokers.add(startBroker(i));
        }
        dispatcher = Dispatcher.start(DispatcherConfig.from(settings));
        logic = LogicNode.start(LogicConfig.from(settings));
    }

    /**
     * @param settings role settings; must carry the Redis and Kafka addresses for every role
     *                 ({@link #wire(Settings, String, String)} does that)
     */
    public static LocalCluster start(Settings settings, int brokerCount) {
        return new LocalCluster(settings, brokerCount);
    }

    /** Points every role at one Redis and one Kafka. */
    public static Settings wire(Settings settings, String redisUri, String kafkaBootstrap) {
        return settings.with(Map.of(
                "dispatcher.redis-uri", redisUri,
                "broker.redis-uri", redisUri,
                "broker.kafka-bootstrap", kafkaBootstrap,
                "logic.redis-uri", redisUri,
                "logic.kafka-bootstrap", kafkaBootstrap));
    }

    /** Starts broker number {@code n} (1-based): id b{n}, ports offset by n-1 unless they are 0. */
    public Broker startBroker(int n) {
        BrokerConfig base = BrokerConfig.from(settings);
        Map<String, String> own = new HashMap<>();
        own.put("broker.id", "b" + n);
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

    public LogicNode logic() {
        return logic;
    }

    /** Stops the logic node and starts a new one with the same settings (a restart). */
    public LogicNode restartLogic() {
        logic.close();
        logic = LogicNode.start(LogicConfig.from(settings));
        return logic;
    }

    /** Stops one broker as an operator would (devices are told to re-dispatch). */
    public void stopBroker(Broker broker) {
        broker.close();
        brokers.remove(broker);
    }

    @Override
    public void close() {
        // Reverse of start: the API first, so nothing new arrives while brokers go.
        logic.close();
        for (int i = brokers.size() - 1; i >= 0; i--) {
            brokers.get(i).close();
        }
        dispatcher.close();
    }
}
