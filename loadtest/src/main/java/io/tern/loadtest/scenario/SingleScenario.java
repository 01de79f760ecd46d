package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.api.AppApi;
import io.tern.loadtest.api.SinglePushConfig;
import io.tern.loadtest.api.SinglePushLoad;
import io.tern.loadtest.platform.Platform;
import io.tern.loadtest.process.ChildIo;
import io.tern.loadtest.process.ChildProcess;
import io.tern.loadtest.stats.CpuMeter;
import io.tern.loadtest.stats.Histogram;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code single}: N devices connected; a generator process sends R single pushes per second for T
 * seconds to random devices over the real HTTP API ({@code POST /v1/push/single}, data
 * {@code {"t": intended send time}}). Reports accepted/s, end-to-end latency (intended send time →
 * the device read the frame), the API's answer time, and loss (accepted − received after a drain).
 */
final class SingleScenario extends Scenario {
    private ObjectNode result;

    SingleScenario(Options o, PrintStream out) {
        super(o, out);
    }

    @Override
    public int run() throws Exception {
        ConnectedFleet fleet = startConnectedFleet();
        DeviceProcesses devices = fleet.devices();
        Connected c = fleet.connected();

        String token = new AppApi(platform.logicUrl()).login(Platform.APP_ID, Platform.APP_KEY, Platform.APP_SECRET);
        List<SinglePushConfig.Target> targets = new ArrayList<>();
        for (int p = 1; p <= devices.processes(); p++) {
            targets.add(new SinglePushConfig.Target(DeviceProcesses.prefix("d", p), devices.count(p)));
        }
        SinglePushConfig cfg = new SinglePushConfig(platform.logicAddress().getHostString(),
                platform.logicAddress().getPort(), token, o.rate, o.seconds, o.apiConnections, targets, o.ttlSeconds,
                Math.max(1000, o.rate * 2), o.drainSeconds + 10);
        List<String> jvm = new ArrayList<>(o.clientJvmArgs());
        jvm.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        ChildProcess api = ChildProcess.start("api-load", jvm, SinglePushLoad.class.getName(),
                List.of(ChildIo.JSON.writeValueAsString(cfg)), Map.of(), o.runDir.resolve("api-load.log"),
                maxLifetimeSeconds());
        try {
            api.await("ready", n -> true, Duration.ofSeconds(60));
            watchClient(api.pid());
            List<Long> clientPids = new ArrayList<>(devices.pids());
            clientPids.add(api.pid());
            CpuMeter cpu = cpuMeter(clientPids);
            Map<String, Long> servers = new LinkedHashMap<>(platformProcesses());
            servers.put("api-load", api.pid());
            Map<String, Long> prof = withClients(servers, devices.pids());
            Report report = new Report(String.format("single: %,d pushes/s for %d s to %,d devices, %d broker(s)",
                    o.rate, o.seconds, o.devices, o.brokers), "single");

            if (o.warmupSeconds > 0) {
                JsonNode w = push(api, devices, cpu, o.warmupSeconds, "warm-up");
                devices.awaitReceived(w.path("accepted").asLong(), Duration.ofSeconds(o.drainSeconds));
                say(String.format("warm-up done: %,d accepted, %,d received; measuring now",
                        w.path("accepted").asLong(), devices.totals().received()));
                devices.resetReceipts(Duration.ofSeconds(10));
            }
            long received0 = 0;
            profileStart(prof);
            CpuMeter.Snapshot s0 = cpu.snapshot();
            JsonNode fin = push(api, devices, cpu, o.seconds, "push");
            Map<String, Double> sendCpu = cpu.snapshot().percentSince(s0);
            profileStop(report);

            long accepted = fin.path("accepted").asLong();
            devices.awaitReceived(accepted, Duration.ofSeconds(o.drainSeconds));
            List<JsonNode> finals = devices.finals(Duration.ofSeconds(30));
            Histogram latency = new Histogram();
            long received = 0;
            long duplicates = 0;
            for (JsonNode f : finals) {
                latency.add(Histogram.decode(f.path("single").asText()));
                received += f.path("received").asLong();
                duplicates += f.path("duplicatesDropped").asLong();
            }
            received -= received0;
            Histogram apiLatency = Histogram.decode(fin.path("apiLatency").asText());
            Histogram sendLag = Histogram.decode(fin.path("sendLag").asText());
            double window = Math.max(1e-3, (fin.path("lastAnswerAt").asLong() - fin.path("startedAt").asLong()) / 1e6);
            double acceptedPerSecond = accepted / window;
            long loss = accepted - received;

            ObjectNode j = report.json;
            j.put("devices", o.devices);
            j.put("connected", c.connected());
            j.put("brokers", o.brokers);
            j.put("rate", o.rate);
            j.put("seconds", o.seconds);
            j.put("sent", fin.path("sent").asLong());
            j.put("accepted", accepted);
            j.put("acceptedPerSecond", Math.round(acceptedPerSecond));
            j.put("statusSent", fin.path("statusSent").asLong());
            j.put("statusOffline", fin.path("statusOffline").asLong());
            j.put("rejected429", fin.path("rejected429").asLong());
            j.put("errors", fin.path("otherErrors").asLong() + fin.path("ioErrors").asLong());
            j.put("notSent", fin.path("dropped").asLong() + fin.path("backlogLeft").asLong());
            j.put("received", received);
            j.put("loss", loss);
            j.put("duplicatesDropped", duplicates);
            putLatency(j.putObject("latencyMs"), latency);
            putLatency(j.putObject("apiAnswerMs"), apiLatency);
            j.put("generatorLagP99Ms", sendLag.percentile(99) / 1000.0);
            j.put("clockNegatives", latency.negatives());
            cpuJson(j, "cpuPct", sendCpu);

            report.row("offered", String.format("%,d /s for %d s", o.rate, o.seconds),
                    String.format("%,d sent, %,d not sent (generator backlog full)", fin.path("sent").asLong(),
                            fin.path("dropped").asLong() + fin.path("backlogLeft").asLong()));
            report.row("accepted", String.format("%,.0f /s", acceptedPerSecond), String.format(
                    "%,d accepted in %.1f s (%,d sent to the broker, %,d queued offline); %,d 429, %,d errors",
                    accepted, window, fin.path("statusSent").asLong(), fin.path("statusOffline").asLong(),
                    fin.path("rejected429").asLong(), fin.path("otherErrors").asLong() + fin.path("ioErrors").asLong()));
            report.row("received", Report.count(received), "loss (accepted − received) " + loss
                    + " after a drain of up to " + o.drainSeconds + " s");
            report.row("latency p50 / p99", Report.ms(latency.percentile(50)) + " / " + Report.ms(latency.percentile(99)),
                    "intended send time → device read the frame; target p99 ≤ 50 ms at 5,000/s");
            report.row("latency p99.9 / max", Report.ms(latency.percentile(99.9)) + " / " + Report.ms(latency.max()));
            report.row("API answer p50 / p99 / max", Report.ms(apiLatency.percentile(50)) + " / "
                    + Report.ms(apiLatency.percentile(99)) + " / " + Report.ms(apiLatency.max()),
                    "intended send time → HTTP answer; generator lag p99 " + Report.ms(sendLag.percentile(99)));
            report.row("cpu while sending", CpuMeter.describe(sendCpu),
                    "clients = device processes + the generator process");
            report.note("Client and platform share this machine's 2 cores; cpu is percent of one core "
                    + "(platform = this JVM: Kafka, dispatcher, logic node).");
            finish(report);
            result = j;
            return 0;
        } finally {
            api.stop(Duration.ofSeconds(5));
        }
    }

    /** One generator run of {@code seconds} at the configured rate, with progress lines; returns its final line. */
    private JsonNode push(ChildProcess api, DeviceProcesses devices, CpuMeter cpu, int seconds, String label) {
        int run = api.latest("final") == null ? 1 : api.latest("final").path("run").asInt() + 1;
        long received0 = devices.totals().received();
        CpuMeter.Snapshot s0 = cpu.snapshot();
        long start = System.nanoTime();
        api.send("go " + o.rate + " " + seconds);
        long lastPrint = start;
        long lastAccepted = 0;
        long lastReceived = 0;
        long deadline = start + Duration.ofSeconds(seconds + o.drainSeconds + 60L).toNanos();
        while (true) {
            JsonNode fin = api.latest("final");
            if (fin != null && fin.path("run").asInt() == run) {
                return fin;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the generator did not finish in time; see " + o.runDir);
            }
            if (!api.alive()) {
                throw new IllegalStateException("the generator exited; see " + o.runDir.resolve("api-load.log"));
            }
            sleep(100);
            long now = System.nanoTime();
            if (now - lastPrint >= o.progressSeconds * 1_000_000_000L) {
                JsonNode s = api.latest("stats");
                boolean current = s != null && s.path("run").asInt() == run;
                long accepted = current ? s.path("accepted").asLong() : 0;
                long received = Math.max(0, devices.totals().received() - received0);
                double dt = (now - lastPrint) / 1e9;
                say(String.format("%s %4.0f/%d s: accepted %,d (%,.0f/s), received %,d (%,.0f/s), 429 %,d, "
                                + "errors %,d, backlog %,d | cpu %s", label, (now - start) / 1e9, seconds, accepted,
                        (accepted - lastAccepted) / dt, received, (received - lastReceived) / dt,
                        current ? s.path("rejected429").asLong() : 0,
                        current ? s.path("otherErrors").asLong() + s.path("ioErrors").asLong() : 0,
                        current ? s.path("backlog").asLong() : 0,
                        CpuMeter.describe(cpu.snapshot().percentSince(s0))));
                lastPrint = now;
                lastAccepted = accepted;
                lastReceived = received;
            }
        }
    }

    static void putLatency(ObjectNode n, Histogram h) {
        n.put("count", h.count());
        n.put("min", h.min() / 1000.0);
        n.put("p50", h.percentile(50) / 1000.0);
        n.put("p90", h.percentile(90) / 1000.0);
        n.put("p99", h.percentile(99) / 1000.0);
        n.put("p999", h.percentile(99.9) / 1000.0);
        n.put("max", h.max() / 1000.0);
        // The distribution for latency.png: [percent, ms] from the min to the max (empty with no samples).
        com.fasterxml.jackson.databind.node.ArrayNode cdf = n.putArray("cdf");
        if (h.count() > 0) {
            cdf.addArray().add(0).add(h.min() / 1000.0);
            for (double p : CDF_PERCENTS) {
                cdf.addArray().add(p).add(h.percentile(p) / 1000.0);
            }
            cdf.addArray().add(100).add(h.max() / 1000.0);
        }
    }

    private static final double[] CDF_PERCENTS = {1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97, 98, 99, 99.5, 99.9,
            99.99};

    @Override
    public ObjectNode result() {
        return result;
    }
}
