package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.devstack.process.ProcessCluster;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * {@code chaos --kill broker|logic|redis|kafka|dispatcher}: every part of the region as its own process
 * ({@link ProcessCluster}: redis-server with AOF fsync always, Kafka in its own JVM, a dispatcher, brokers,
 * two logic nodes), N devices in device processes, the single-push generator at R/s for T s against the
 * second logic node; a third of the way in, the chosen process is SIGKILLed (and, but for a broker, started
 * again 5 s later). Then the devices get up to {@code --drain-seconds} (at least 60) to receive what was
 * accepted. Prints one row: fault, accepted, delivered, queued at accept / expired, lost (accepted − delivered),
 * duplicates, recovery seconds (the worst intended-send → delivery latency of the run).
 */
final class ChaosScenario extends ClusterScenario {
    static final List<String> FAULTS = List.of("broker", "logic", "redis", "kafka", "dispatcher");
    private static final Duration DOWN_FOR = Duration.ofSeconds(5);
    private static final Duration START = Duration.ofSeconds(180);
    private ObjectNode result;

    ChaosScenario(Options o, PrintStream out) {
        super(o, out);
    }

    @Override
    public int run() throws Exception {
        say("run directory " + o.runDir + " (a log per process); fault: " + o.kill);
        startCluster(Math.max(o.brokers, 2), c -> c);
        DeviceProcesses devices = startClusterDevices(List.of());
        awaitConnected(devices);
        try (PushStream pushes = pushStream(devices, o.rate, o.seconds)) {
            long start = System.nanoTime();
            pushes.go();
            Thread fault = new Thread(() -> inject(start), "chaos-fault");
            fault.start();
            JsonNode fin = pushes.awaitFinal();
            fault.join();

            Delivery d = drain(devices, fin.path("accepted").asLong());
            long accepted = d.accepted();
            long received = d.delivered();
            long duplicates = d.duplicates();
            long lost = d.lost();
            double recovery = d.latency().max() / 1e6;
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
            j.put("refused", refused(fin));
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
            finish(report);
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

    @Override
    public ObjectNode result() {
        return result;
    }
}
