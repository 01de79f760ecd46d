package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.process.ProcessCluster;
import io.tern.devstack.process.RoleProcess;
import io.tern.loadtest.api.AppApi;
import io.tern.loadtest.api.SinglePushConfig;
import io.tern.loadtest.api.SinglePushLoad;
import io.tern.loadtest.platform.Platform;
import io.tern.loadtest.process.ChildIo;
import io.tern.loadtest.process.ChildProcess;
import io.tern.loadtest.stats.Histogram;
import io.tern.store.topic.Topics;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * What the scenarios that run every part as its own process share ({@link ProcessCluster}: redis-server,
 * Kafka, dispatcher, brokers, two logic nodes, optionally global schedulers): starting it with the load
 * test's app provisioned, device processes against its dispatcher, the single-push stream against the last
 * logic node (killing the first leaves the API up, as behind a balancer), and the loss count at the end.
 */
abstract class ClusterScenario extends Scenario {
    private static final int LOGIC_NODES = 2;
    protected ProcessCluster cluster;
    protected String deviceKey;

    protected ClusterScenario(Options o, PrintStream out) {
        super(o, out);
    }

    /** Starts the cluster with {@code brokers} brokers; {@code customize} adds e.g. regions and schedulers. */
    protected void startCluster(int brokers, UnaryOperator<ProcessCluster.Options> customize) throws IOException {
        Files.createDirectories(o.runDir);
        Map<String, String> s = new HashMap<>(o.set);
        s.put("logic.apps." + Platform.APP_ID + ".key", Platform.APP_KEY);
        s.put("logic.apps." + Platform.APP_ID + ".secret", Platform.APP_SECRET);
        s.put("logic.limits.apps." + Platform.APP_ID + ".rate", "1000000");
        s.put("logic.limits.apps." + Platform.APP_ID + ".daily-quota", "1000000000000");
        s.put("dispatcher.client-keys", Platform.APP_ID + "=" + Platform.APP_ID + "-client-key");
        deviceKey = s.computeIfAbsent("dispatcher.device-key", k -> "loadtest-" + o.scenario + "-device-key");
        // One list for every role process, brokers included: the roles' common flags.
        List<String> roleJvm = new ArrayList<>(Platform.ROLE_JVM_FLAGS);
        roleJvm.add("-Xmx768m");
        roleJvm.addAll(o.brokerJvmArgs());
        cluster = ProcessCluster.start(customize.apply(ProcessCluster.Options.of(o.runDir, brokers, LOGIC_NODES, s,
                        Topics.ALL)
                .withCompactedTopics(Topics.COMPACTED)
                .withMaxLifetime(Duration.ofSeconds(maxLifetimeSeconds())).withRoleJvmArgs(roleJvm)), this::say);
        startSampler();
    }

    /** Every role its own group (pids read each time: a restarted process is followed). */
    @Override
    protected Map<String, List<Long>> sampledGroups() {
        Map<String, List<Long>> g = new java.util.LinkedHashMap<>();
        g.put("clients", clientPids());
        g.put("brokers", cluster.brokers().stream().map(RoleProcess::pid).toList());
        g.put("logic", cluster.logicNodes().stream().map(RoleProcess::pid).toList());
        g.put("dispatcher", List.of(cluster.dispatcher().pid()));
        List<Long> control = new ArrayList<>();
        cluster.schedulers().forEach(r -> control.add(r.pid()));
        cluster.rateControllers().forEach(r -> control.add(r.pid()));
        if (!control.isEmpty()) {
            g.put("control", control); // global schedulers and rate controllers
        }
        g.put("kafka", List.of(cluster.kafka().pid()));
        g.put("redis", List.of(cluster.redis().pid()));
        return g;
    }

    /** Not sampled here: the cluster's brokers are not {@code BrokerProcess}es with a known /metrics reader. */
    @Override
    protected long brokerConnectionsNow() {
        return -1;
    }

    /** {@code o.devices} devices in {@code o.clients} processes, homes {@code regions} (empty: the default). */
    protected DeviceProcesses startClusterDevices(List<String> regions) {
        DeviceProcesses d = DeviceProcesses.start("d", o.devices, o.clients, o, cluster.dispatcherUrl().toString(),
                null, Platform.APP_ID, deviceKey, o.runDir, maxLifetimeSeconds(), regions);
        deviceGroups.add(d);
        return d;
    }

    /** Sends {@code connect} and waits, printing progress, until every device connected once or the timeout. */
    protected void awaitConnected(DeviceProcesses d) {
        long start = System.nanoTime();
        d.connect();
        long deadline = start + Duration.ofSeconds(o.connectTimeout).toNanos();
        long lastPrint = start;
        while (d.totals().everConnected() < d.devices() && System.nanoTime() < deadline) {
            sleep(200);
            if (System.nanoTime() - lastPrint > o.progressSeconds * 1_000_000_000L) {
                say(String.format("connect: %,d/%,d", d.totals().everConnected(), d.devices()));
                lastPrint = System.nanoTime();
            }
        }
        say(String.format("%,d of %,d devices connected in %.1f s", d.totals().everConnected(), d.devices(),
                (System.nanoTime() - start) / 1e9));
        // Routes are written right after CONNACK, asynchronously: give the last ones a moment.
        sleep(1000);
    }

    /**
     * The single-push generator process pushing to every device of {@code d}, connected and ready; {@code go}
     * starts the stream.
     */
    protected PushStream pushStream(DeviceProcesses d, int rate, int seconds) throws Exception {
        RoleProcess api = cluster.logicNodes().get(cluster.logicNodes().size() - 1);
        String token = new AppApi("http://127.0.0.1:" + api.port("http"))
                .login(Platform.APP_ID, Platform.APP_KEY, Platform.APP_SECRET);
        List<SinglePushConfig.Target> targets = new ArrayList<>();
        for (int p = 1; p <= d.processes(); p++) {
            targets.add(new SinglePushConfig.Target(DeviceProcesses.prefix("d", p), d.count(p)));
        }
        SinglePushConfig cfg = new SinglePushConfig("127.0.0.1", api.port("http"), token, rate, seconds,
                o.apiConnections, targets, o.ttlSeconds, Math.max(1000, rate * 2), o.drainSeconds + 10);
        List<String> jvm = new ArrayList<>(o.clientJvmArgs());
        jvm.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        ChildProcess gen = ChildProcess.start("api-load", jvm, SinglePushLoad.class.getName(),
                List.of(ChildIo.JSON.writeValueAsString(cfg)), Map.of(), o.runDir.resolve("api-load.log"),
                maxLifetimeSeconds());
        try {
            gen.await("ready", n -> true, Duration.ofSeconds(60));
            watchClient(gen.pid());
        } catch (Exception e) {
            gen.close();
            throw e;
        }
        return new PushStream(gen, d, rate, seconds);
    }

    /** The single-push generator of a run. */
    protected final class PushStream implements AutoCloseable {
        private final ChildProcess gen;
        private final DeviceProcesses devices;
        private final int rate;
        private final int seconds;

        private PushStream(ChildProcess gen, DeviceProcesses devices, int rate, int seconds) {
            this.gen = gen;
            this.devices = devices;
            this.rate = rate;
            this.seconds = seconds;
        }

        void go() {
            gen.send("go " + rate + " " + seconds);
        }

        /** Ends the sending now (the answers still drain). */
        void stop() {
            gen.send("stop");
        }

        /** The generator's latest counters, or null before the first. */
        JsonNode stats() {
            return gen.latest("stats");
        }

        /** The generator's {@code final} line (every push sent and answered), or null before it. */
        JsonNode finalStats() {
            return gen.latest("final");
        }

        /** Waits for the generator's {@code final} line, printing progress. */
        JsonNode awaitFinal() {
            long deadline = System.nanoTime() + Duration.ofSeconds(seconds + o.drainSeconds + 120L).toNanos();
            long lastPrint = System.nanoTime();
            while (true) {
                JsonNode fin = gen.latest("final");
                if (fin != null) {
                    return fin;
                }
                if (System.nanoTime() > deadline || !gen.alive()) {
                    throw new IllegalStateException("the generator did not finish; see " + o.runDir.resolve("api-load.log"));
                }
                sleep(100);
                if (System.nanoTime() - lastPrint > o.progressSeconds * 1_000_000_000L) {
                    say("push: " + progress());
                    lastPrint = System.nanoTime();
                }
            }
        }

        /** "accepted 1,000, refused 0, received 990". */
        String progress() {
            JsonNode st = stats();
            return String.format("accepted %,d, refused %,d, received %,d", st == null ? 0 : st.path("accepted").asLong(),
                    st == null ? 0 : refused(st), devices.totals().received());
        }

        @Override
        public void close() {
            gen.close();
        }
    }

    /** Pushes the generator did not get accepted: 429, other errors, no answer (not retried). */
    static long refused(JsonNode genStats) {
        return genStats.path("rejected429").asLong() + genStats.path("otherErrors").asLong()
                + genStats.path("ioErrors").asLong();
    }

    /**
     * What became of the accepted pushes after the drain.
     *
     * @param latency  intended send → delivery of every single push received
     * @param windows  the same for the named send-time windows the devices were given
     */
    protected record Delivery(long accepted, long delivered, long duplicates, Histogram latency,
                              Map<String, Histogram> windows) {
        long lost() {
            return Math.max(0, accepted - delivered);
        }
    }

    /**
     * Gives the devices up to {@code --drain-seconds} (at least 60) to receive the {@code accepted} pushes, then
     * sums what every device process received.
     */
    protected Delivery drain(DeviceProcesses devices, long accepted) throws Exception {
        devices.awaitReceived(accepted, Duration.ofSeconds(Math.max(60, o.drainSeconds)));
        Histogram latency = new Histogram();
        Map<String, Histogram> windows = new TreeMap<>();
        long received = 0;
        long duplicates = 0;
        for (JsonNode f : devices.finals(Duration.ofSeconds(30))) {
            latency.add(Histogram.decode(f.path("single").asText()));
            f.path("windows").fields().forEachRemaining(e -> windows.computeIfAbsent(e.getKey(), k -> new Histogram())
                    .add(Histogram.decode(e.getValue().asText())));
            received += f.path("received").asLong();
            duplicates += f.path("duplicatesDropped").asLong();
        }
        return new Delivery(accepted, received, duplicates, latency, windows);
    }

    @Override
    public void close() {
        super.close();
        if (cluster != null) {
            cluster.close();
        }
    }
}
