package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.api.AppApi;
import io.tern.loadtest.platform.Platform;
import io.tern.loadtest.process.ChildIo;
import io.tern.loadtest.stats.CpuMeter;
import io.tern.loadtest.stats.EpochClock;
import io.tern.loadtest.stats.Histogram;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code broadcast}: N devices of one app connected; M all-pushes, each
 * {@code POST /v1/push/payload} (data {@code {"k": m, "t": epoch µs}}) then
 * {@code POST /v1/push/all {"taskId"}}, one every I ms (0: every payload stored first, then every
 * all-push started at once, so the fan-out sets the pace). Reports deliveries per
 * second, latency from the all-push call to the device's receipt (and from its answer), the answer's
 * own time (the API answers once the broadcast is recorded, while the fan-out goes on), per-broadcast
 * fan-out time (from the call to the last device), and loss (N × accepted broadcasts − received). When the API answers 404 the run
 * says "broadcast API not available" and reports no numbers.
 */
final class BroadcastScenario extends Scenario {
    private ObjectNode result;

    BroadcastScenario(Options o, PrintStream out) {
        super(o, out);
    }

    /** One all-push as the runner saw it (epoch µs): payload made, /all called, /all answered. */
    private record Sent(int k, long payloadMicros, long callMicros, long answerMicros, String taskId) {
    }

    @Override
    public int run() throws Exception {
        ConnectedFleet fleet = startConnectedFleet();
        DeviceProcesses devices = fleet.devices();
        Connected c = fleet.connected();

        AppApi api = new AppApi(platform.logicUrl());
        api.login(Platform.APP_ID, Platform.APP_KEY, Platform.APP_SECRET);
        Report report = new Report(String.format("broadcast: %d all-pushes to %,d devices, %d broker(s)",
                o.broadcasts, o.devices, o.brokers), "broadcast");
        ObjectNode j = report.json;
        j.put("devices", o.devices);
        j.put("connected", c.connected());
        j.put("brokers", o.brokers);
        j.put("broadcasts", o.broadcasts);
        j.put("intervalMs", o.intervalMs);

        // Probe: does this build have the group-push API at all?
        AppApi.Answer probe = api.post("/v1/push/payload", payload(0, EpochClock.nowMicros()));
        if (probe.status() == 404 || probe.status() == 405) {
            String why = "POST /v1/push/payload answered " + probe.status() + ": " + probe.raw();
            say("broadcast API not available (" + why + ")");
            j.put("available", false);
            j.put("reason", "broadcast API not available: " + why);
            report.row("result", "broadcast API not available", why);
            report.note("No numbers: the logic node in this build has no group-push API (issue 3).");
            finish(report);
            result = j;
            return NOT_AVAILABLE;
        }
        if (probe.status() != 200) {
            throw new IllegalStateException("POST /v1/push/payload answered " + probe.status() + ": " + probe.raw());
        }
        j.put("available", true);

        if (o.warmupBroadcasts > 0) {
            long before = devices.totals().received();
            List<Sent> warm = new ArrayList<>();
            for (int k = 1; k <= o.warmupBroadcasts; k++) {
                Sent s = broadcastOnce(api, 10_000 + k);
                if (s != null) {
                    warm.add(s);
                }
                sleep(o.intervalMs);
            }
            long want = before + (long) warm.size() * c.connected();
            long end = System.nanoTime() + Duration.ofSeconds(o.drainSeconds).toNanos();
            while (devices.totals().received() < want && System.nanoTime() < end) {
                sleep(100);
            }
            say(String.format("warm-up: %d all-pushes, %,d of %,d received; measuring now", warm.size(),
                    devices.totals().received() - before, want - before));
            devices.resetReceipts(Duration.ofSeconds(10));
        }

        List<Long> clientPids = devices.pids();
        CpuMeter cpu = cpuMeter(clientPids);
        Map<String, Long> prof = new LinkedHashMap<>(platformProcesses());
        for (int i = 0; i < clientPids.size(); i++) {
            prof.put("client-" + (i + 1), clientPids.get(i));
        }
        profileStart(prof);
        long received0 = devices.totals().received();
        CpuMeter.Snapshot s0 = cpu.snapshot();
        List<Sent> sent = new ArrayList<>();
        int failed = 0;
        long start = System.nanoTime();
        long lastPrint = start;
        if (o.intervalMs == 0) {
            // Back to back: store every payload first, then start every all-push at once, so the
            // fan-out, not the API's answer time, sets the pace.
            List<long[]> made = new ArrayList<>();
            List<String> tasks = new ArrayList<>();
            for (int k = 1; k <= o.broadcasts; k++) {
                long t = EpochClock.nowMicros();
                AppApi.Answer p = api.post("/v1/push/payload", payload(k, t));
                if (p.status() != 200 || p.body() == null || !p.body().hasNonNull("taskId")) {
                    failed++;
                    say("payload " + k + " answered " + p.status() + ": " + p.raw());
                    continue;
                }
                made.add(new long[]{k, t});
                tasks.add(p.body().get("taskId").asText());
            }
            List<java.util.concurrent.CompletableFuture<AppApi.Answer>> calls = new ArrayList<>();
            for (String taskId : tasks) {
                calls.add(api.postAsync("/v1/push/all", ChildIo.JSON.createObjectNode().put("taskId", taskId).toString()));
            }
            for (int i = 0; i < calls.size(); i++) {
                AppApi.Answer a = calls.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS);
                if (a.status() / 100 != 2) {
                    failed++;
                    say("all-push " + made.get(i)[0] + " answered " + a.status() + ": " + a.raw());
                    continue;
                }
                sent.add(new Sent((int) made.get(i)[0], made.get(i)[1], a.startMicros(), a.endMicros(), tasks.get(i)));
            }
        }
        for (int k = 1; o.intervalMs > 0 && k <= o.broadcasts; k++) {
            long due = start + (long) (k - 1) * o.intervalMs * 1_000_000L;
            while (System.nanoTime() < due) {
                sleep(Math.max(1, Math.min(50, (due - System.nanoTime()) / 1_000_000)));
            }
            Sent one = broadcastOnce(api, k);
            if (one == null) {
                failed++;
                continue;
            }
            sent.add(one);
            long now = System.nanoTime();
            if (now - lastPrint >= o.progressSeconds * 1_000_000_000L) {
                lastPrint = now;
                DeviceProcesses.Totals tt = devices.totals();
                say(String.format("broadcast %d/%d accepted, received %,d of %,d | cpu %s", sent.size(), o.broadcasts,
                        tt.received() - received0, (long) sent.size() * o.devices,
                        CpuMeter.describe(cpu.snapshot().percentSince(s0))));
            }
        }
        long expected = (long) sent.size() * c.connected();
        long drainEnd = System.nanoTime() + Duration.ofSeconds(o.drainSeconds).toNanos();
        while (System.nanoTime() < drainEnd && devices.totals().received() - received0 < expected) {
            sleep(100);
            if (System.nanoTime() - lastPrint >= o.progressSeconds * 1_000_000_000L) {
                lastPrint = System.nanoTime();
                say(String.format("drain: received %,d of %,d", devices.totals().received() - received0, expected));
            }
        }
        Map<String, Double> runCpu = cpu.snapshot().percentSince(s0);
        profileStop(report);

        List<JsonNode> finals = devices.finals(Duration.ofSeconds(30));
        Histogram fromCall = new Histogram();
        Histogram fromAnswer = new Histogram();
        Histogram fanOut = new Histogram();
        // The API answers once the broadcast is recorded, before the fan-out: its own time, apart from delivery.
        Histogram answer = new Histogram();
        sent.forEach(s -> answer.record(s.answerMicros() - s.callMicros()));
        long received = 0;
        long lastReceipt = 0;
        long matched = 0;
        // Per broadcast in send order (null: no device got it): how fan-out moves over the run, e.g. with the JIT's warm-up.
        var fanOutInOrder = j.putArray("fanOutByBroadcastMs");
        for (JsonNode f : finals) {
            received += f.path("received").asLong();
            lastReceipt = Math.max(lastReceipt, f.path("lastReceiptAt").asLong());
        }
        received -= received0;
        for (Sent s : sent) {
            Histogram perK = new Histogram();
            for (JsonNode f : finals) {
                JsonNode h = f.path("broadcasts").get(Integer.toString(s.k()));
                if (h != null) {
                    perK.add(Histogram.decode(h.asText()));
                }
            }
            matched += perK.count();
            Histogram call = perK.shifted(s.callMicros() - s.payloadMicros());
            fromCall.add(call);
            fromAnswer.add(perK.shifted(s.answerMicros() - s.payloadMicros()));
            if (perK.count() > 0) {
                fanOut.record(call.max());
                fanOutInOrder.add(Report.round2(call.max() / 1000.0));
            } else {
                fanOutInOrder.addNull(); // no device got it
            }
        }
        long loss = expected - matched;
        long firstCall = sent.stream().mapToLong(Sent::callMicros).min().orElse(0);
        double window = sent.isEmpty() || lastReceipt == 0 ? 0 : (lastReceipt - firstCall) / 1e6;
        double perSecond = window <= 0 ? 0 : matched / window;

        j.put("accepted", sent.size());
        j.put("failed", failed);
        j.put("expected", expected);
        j.put("received", received);
        j.put("matched", matched);
        j.put("loss", loss);
        j.put("deliveriesPerSecond", Math.round(perSecond));
        j.put("windowSeconds", Report.round2(window));
        SingleScenario.putLatency(j.putObject("latencyFromCallMs"), fromCall);
        SingleScenario.putLatency(j.putObject("latencyFromAnswerMs"), fromAnswer);
        j.put("deliveredBeforeAnswer", fromAnswer.negatives());
        SingleScenario.putLatency(j.putObject("answerMs"), answer);
        SingleScenario.putLatency(j.putObject("fanOutMs"), fanOut);
        cpuJson(j, "cpuPct", runCpu);

        report.row("all-pushes accepted", sent.size() + " / " + o.broadcasts, failed + " failed");
        report.row("deliveries", Report.count(matched) + " / " + Report.count(expected),
                "loss " + loss + " (connected devices × accepted all-pushes − received)");
        report.row("deliveries per second", String.format("%,.0f /s", perSecond), String.format(
                "first /all call → last receipt, %.2f s%s; target ≥ 650,000/s at 10,000 devices back to back", window,
                o.intervalMs == 0 ? ", every /all started at once" : ", one /all every " + o.intervalMs + " ms"));
        report.row("latency p50 / p99 / max", Report.ms(fromCall.percentile(50)) + " / "
                + Report.ms(fromCall.percentile(99)) + " / " + Report.ms(fromCall.max()),
                "/all call start → device read the frame; target p99 ≤ 50 ms at 1 broadcast/s to 10,000");
        report.row("from the /all answer p50 / p99", Report.ms(fromAnswer.percentile(50)) + " / "
                + Report.ms(fromAnswer.percentile(99)), fromAnswer.negatives() + " receipts came before the answer (counted as 0)");
        report.row("/all answer p50 / p99", Report.ms(answer.percentile(50)) + " / " + Report.ms(answer.percentile(99)),
                "/all call → its answer (recorded; the fan-out goes on behind it)");
        report.row("fan-out time p50 / max", Report.ms(fanOut.percentile(50)) + " / " + Report.ms(fanOut.max()),
                "/all call → last device of that broadcast");
        report.row("cpu", CpuMeter.describe(runCpu), "clients = device processes");
        report.note("Client and platform share this machine's 2 cores; cpu is percent of one core "
                + "(platform = this JVM: Kafka, dispatcher, logic node).");
        finish(report);
        result = j;
        return 0;
    }

    /** Stores the payload, then all-pushes it; null (and a progress line) when either call fails. */
    private Sent broadcastOnce(AppApi api, int k) {
        long t = EpochClock.nowMicros();
        AppApi.Answer p = api.post("/v1/push/payload", payload(k, t));
        if (p.status() != 200 || p.body() == null || !p.body().hasNonNull("taskId")) {
            say("payload " + k + " answered " + p.status() + ": " + p.raw());
            return null;
        }
        String taskId = p.body().get("taskId").asText();
        AppApi.Answer a = api.post("/v1/push/all", ChildIo.JSON.createObjectNode().put("taskId", taskId).toString());
        if (a.status() / 100 != 2) {
            say("all-push " + k + " answered " + a.status() + ": " + a.raw());
            return null;
        }
        return new Sent(k, t, a.startMicros(), a.endMicros(), taskId);
    }

    private String payload(int k, long micros) {
        ObjectNode n = ChildIo.JSON.createObjectNode();
        n.putObject("data").put("k", k).put("t", micros);
        n.put("ttlSeconds", o.ttlSeconds);
        return n.toString();
    }

    @Override
    public ObjectNode result() {
        return result;
    }
}
