package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code chaos --kill broker|logic|redis|kafka|dispatcher}: every part of the region as its own process
 * ({@link ProcessCluster}: redis-server with AOF fsync always, Kafka in its own JVM, a dispatcher, brokers,
 * two logic nodes), N devices in device processes, the single-push generator at R/s for T s against the
 * second logic node; a third of the way in, the chosen process is SIGKILLed (and, but for a broker, started
 * again 5 s later). Then the devices get up to {@code --drain-seconds} (at least 60) to receive what was
 * accepted. Prints one row: fault, accepted, delivered, queued at accept / expired, lost (accepted − delivered),
 * duplicates, recovery seconds (the worst intended-send → delivery latency of the run).
 */
final class ChaosScenario extends Scenario {
    static final List<String> FAULTS = List.of("broker", "logic", "redis", "kafka", "dispatcher");
    private static final Duration DOWN_FOR = Duration.ofSeconds(5);
    private static final Duration START = Duration.ofSeconds(180);
    private ProcessCluster cluster;
    private ObjectNode result;

    ChaosScenario(Options o, PrintStream out) {
        super(o, out);
    }

    @Override
    public int run() throws Exception {
        Files.createDirectories(o.runDir);
        say("run directory " + o.runDir + " (a log per process); fault: " + o.kill);
        Map<String, String> s = new HashMap<>(o.set);
        s.put("logic.apps." + Platform.APP_ID + ".key", Platform.APP_KEY);
        s.put("logic.apps." + Platform.APP_ID + ".secret", Platform.APP_SECRET);
        s.put("logic.limits.apps." + Platform.APP_ID + ".rate", "1000000");
        s.put("logic.limits.apps." + Platform.APP_ID + ".daily-quota", "1000000000000");
        s.put("dispatcher.client-keys", Platform.APP_ID + "=" + Platform.APP_ID + "-client-key");
        String deviceKey = s.computeIfAbsent("dispatcher.device-key", k -> "loadtest-chaos-device-key");
        List<String> roleJvm = new ArrayList<>(Platform.BROKER_JVM_FLAGS);
        roleJvm.add("-Xmx768m");
        roleJvm.addAll(o.brokerJvmArgs());
        cluster = ProcessCluster.start(ProcessCluster.Options.of(o.runDir, Math.max(o.brokers, 2), 2, s,
                        List.of(Topics.ACKS, Topics.JOBS))
                .withMaxLifetime(Duration.ofSeconds(maxLifetimeSeconds())).withRoleJvmArgs(roleJvm), this::say);

        DeviceProcesses devices = DeviceProcesses.start("d", o.devices, o.clients, o, cluster.dispatcherUrl().toString(),
                null, Platform.APP_ID, deviceKey, o.runDir, maxLifetimeSeconds());
        deviceGroups.add(devices);
        connect(devices);

        // The generator talks to the last logic node: killing the first one leaves the API up, as behind a balancer.
        RoleProcess api = cluster.logicNodes().get(cluster.logicNodes().size() - 1);
        String token = new AppApi("http://127.0.0.1:" + api.port("http"))
                .login(Platform.APP_ID, Platform.APP_KEY, Platform.APP_SECRET);
        List<SinglePushConfig.Target> targets = new ArrayList<>();
        for (int p = 1; p <= devices.processes(); p++) {
            targets.add(new SinglePushConfig.Target(DeviceProcesses.prefix("d", p), devices.count(p)));
        }
        SinglePushConfig cfg = new SinglePushConfig("127.0.0.1", api.port("http"), token, o.rate, o.seconds,
                o.apiConnections, targets, o.ttlSeconds, Math.max(1000, o.rate * 2), o.drainSeconds + 10);
        List<String> jvm = new ArrayList<>(o.clientJvmArgs());
        jvm.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        try (ChildProcess gen = ChildProcess.start("api-load", jvm, SinglePushLoad.class.getName(),
                List.of(ChildIo.JSON.writeValueAsString(cfg)), Map.of(), o.runDir.resolve("api-load.log"),
                maxLifetimeSeconds())) {
            gen.await("ready", n -> true, Duration.ofSeconds(60));
            long start = System.nanoTime();
            gen.send("go " + o.rate + " " + o.seconds);
            Thread fault = new Thread(() -> inject(start), "chaos-fault");
            fault.start();
            JsonNode fin = awaitFinal(gen, devices);
            fault.join();

            long accepted = fin.path("accepted").asLong();
            long drainEnd = System.nanoTime() + Duration.ofSeconds(Math.max(60, o.drainSeconds)).toNanos();
            while (devices.totals().received() < accepted && System.nanoTime() < drainEnd) {
                sleep(200);
            }
            Histogram latency = new Histogram();
            long received = 0;
            long duplicates = 0;
            for (JsonNode f : devices.finals(Duration.ofSeconds(30))) {
                latency.add(Histogram.decode(f.path("single").asText()));
                received += f.path("received").asLong();
                duplicates += f.path("duplicatesDropped").asLong();
            }
            long lost = Math.max(0, accepted - received);
            double recovery = latency.max() / 1e6;
            Report report = new Report(String.format("chaos: %s killed during %,d pushes/s for %d s to %,d devices",
                    o.kill, o.rate, o.seconds, o.devices), "chaos");
            ObjectNode j = report.json;
            j.put("fault", o.kill);
            j.put("devices", o.devices);
            j.put("accepted", accepted);
            j.put("delivered", received);
            j.put("queuedAtAccept", fin.path("statusOffline").asLong());
            j.put("lost", lost);
            j.put("duplicates", duplicates);
            j.put("recoverySeconds", Report.round2(recovery));
            j.put("refused", fin.path("rejected429").asLong() + fin.path("otherErrors").asLong() + fin.path("ioErrors").asLong());
            report.row("fault", o.kill, "SIGKILL at " + o.seconds / 3 + " s" + ("broker".equals(o.kill) ? ", not restarted"
                    : ", restarted " + DOWN_FOR.toSeconds() + " s later"));
            report.row("accepted", Report.count(accepted), String.format("2xx answers; %,d refused (429 %,d, other %,d, no answer %,d), not retried",
                    j.path("refused").asLong(), fin.path("rejected429").asLong(), fin.path("otherErrors").asLong(),
                    fin.path("ioErrors").asLong()));
            report.row("delivered", Report.count(received), "distinct messages the devices received");
            report.row("queued / expired", fin.path("statusOffline").asLong() + " / 0",
                    "accepted as offline (device queue); TTL " + o.ttlSeconds + " s, so none expire in the run");
            report.row("lost", Report.count(lost), "accepted − delivered after the drain");
            report.row("duplicates", Report.count(duplicates), "dropped by the SDK's de-duplication");
            report.row("recovery s", String.format("%.2f", recovery), "worst intended-send → delivery latency");
            report.note(String.format("row: %-10s %,9d %,9d %,5d/0 %,5d %,5d %7.2f", o.kill, accepted, received,
                    fin.path("statusOffline").asLong(), lost, duplicates, recovery));
            report.print(out);
            result = j;
            return lost == 0 ? 0 : 1;
        }
    }

    private void inject(long start) {
        try {
            Thread.sleep(Duration.ofSeconds(Math.max(1, o.seconds / 3)).toMillis());
            say("SIGKILL " + o.kill);
            switch (o.kill) {
                case "broker" -> cluster.brokers().get(0).kill();
                case "logic" -> cluster.logicNodes().get(0).kill();
                case "redis" -> cluster.killRedis();
                case "kafka" -> cluster.killKafka();
                case "dispatcher" -> cluster.dispatcher().kill();
                default -> throw new IllegalArgumentException(o.kill);
            }
            if (o.kill.equals("broker")) {
                return;
            }
            Thread.sleep(DOWN_FOR.toMillis());
            switch (o.kill) {
                case "logic" -> cluster.logicNodes().get(0).restart(START);
                case "redis" -> cluster.restartRedis();
                case "kafka" -> cluster.restartKafka();
                case "dispatcher" -> cluster.dispatcher().restart(START);
                default -> throw new IllegalArgumentException(o.kill);
            }
            say(o.kill + " restarted");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            say("fault injection failed: " + e);
        }
    }

    private void connect(DeviceProcesses d) {
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
        sleep(1000);
    }

    private JsonNode awaitFinal(ChildProcess gen, DeviceProcesses devices) {
        long deadline = System.nanoTime() + Duration.ofSeconds(o.seconds + o.drainSeconds + 120L).toNanos();
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
                JsonNode st = gen.latest("stats");
                say(String.format("push: accepted %,d, refused %,d, received %,d", st == null ? 0 : st.path("accepted").asLong(),
                        st == null ? 0 : st.path("rejected429").asLong() + st.path("otherErrors").asLong()
                                + st.path("ioErrors").asLong(), devices.totals().received()));
                lastPrint = System.nanoTime();
            }
        }
    }

    @Override
    public ObjectNode result() {
        return result;
    }

    @Override
    public void close() {
        super.close();
        if (cluster != null) {
            cluster.close();
        }
    }
}
