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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code broadcast}: N devices of one app connected; M all-pushes, each
 * {@code POST /v1/push/payload} (data {@code {"k": m, "t": epoch µs}}) then
 * {@code POST /v1/push/all {"taskId"}}, one every I ms (0: every payload stored first, then every
 * all-push started at once, so the fan-out sets the pace). Reports deliveries per
 * second, latency from the all-push call to the device's receipt (and from its answer), the answer's
 * own time (the API answers once the broadcast is recorded, while the fan-out goes on), per-broadcast
 * fan-out time (from the call to the last device), and loss (N × accepted broadcasts − received). With
 * {@code --in-flight N} at most N all-pushes are outstanding (call → received on every connected device, or a
 * counted timeout); the next call goes when one is. CPU per delivery by process group over the measured phase;
 * then, after the last receipt, the tasks' {@code delivered} counts are polled until they reach the receipts: the
 * count lag and CPU per delivery up to the last counted ack (device ACK counting included). When the API answers
 * 404 the run says "broadcast API not available" and reports no numbers.
 */
final class BroadcastScenario extends Scenario {
    /** Count wait: time between polling rounds of the tasks not caught up yet. */
    private static final long COUNT_POLL_MS = 100;
    /** Count wait: tasks asked at once in a round (a round is one look at all, as close to one moment as may be). */
    private static final int COUNT_PARALLEL = 32;
    /** Count wait: no count moved this long = the counts have stopped short (e.g. acks that never come). */
    private static final Duration COUNT_QUIET = Duration.ofSeconds(5);

    private ObjectNode result;

    BroadcastScenario(Options o, PrintStream out) {
        super(o, out);
    }

    /** One all-push as the runner saw it (epoch µs): payload made, /all called, /all answered. */
    private record Sent(int k, long payloadMicros, long callMicros, long answerMicros, String taskId) {
    }

    /** A stored payload, not all-pushed yet: broadcast number, its {@code t} (epoch µs), taskId. */
    private record Made(int k, long payloadMicros, String taskId) {
    }

    @Override
    public int run() throws Exception {
        ConnectedFleet fleet = startConnectedFleet();
        DeviceProcesses devices = fleet.devices();
        Connected c = fleet.connected();

        // --in-flight: the device processes' "complete" lines go to the bound of the phase under way.
        AtomicReference<InFlight> flight = new AtomicReference<>();
        devices.onBroadcastComplete((p, k) -> {
            InFlight f = flight.get();
            if (f != null) {
                f.received(k, p);
            }
        });
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
        j.put("inFlight", o.inFlight);

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
            if (o.inFlight > 0) {
                // Same shape as the measured run, so the JIT warms up on it.
                flight.set(newFlight(devices));
                warm.addAll(sendInFlight(api, storePayloads(api, 10_001, o.warmupBroadcasts), flight.get(), null));
            }
            for (int k = 1; o.inFlight == 0 && k <= o.warmupBroadcasts; k++) {
                Sent s = broadcastOnce(api, 10_000 + k);
                if (s != null) {
                    warm.add(s);
                }
                sleep(o.intervalMs);
            }
            long want = before + (long) warm.size() * c.connected();
            devices.awaitReceived(want, Duration.ofSeconds(o.drainSeconds));
            say(String.format("warm-up: %d all-pushes, %,d of %,d received; measuring now", warm.size(),
                    devices.totals().received() - before, want - before));
            devices.resetReceipts(Duration.ofSeconds(10));
        }

        List<Long> clientPids = devices.pids();
        CpuMeter cpu = cpuMeter(clientPids);
        profileStart(withClients(platformProcesses(), clientPids));
        long received0 = devices.totals().received();
        CpuMeter.Snapshot s0 = cpu.snapshot();
        List<Sent> sent = new ArrayList<>();
        int failed = 0;
        long start = System.nanoTime();
        long lastPrint = start;
        InFlight measured = null;
        if (o.inFlight > 0) {
            List<Made> made = storePayloads(api, 1, o.broadcasts);
            measured = newFlight(devices);
            flight.set(measured);
            sent.addAll(sendInFlight(api, made, measured, () -> String.format("received %,d | cpu %s",
                    devices.totals().received() - received0, CpuMeter.describe(cpu.snapshot().percentSince(s0)))));
            failed = o.broadcasts - sent.size();
        } else if (o.intervalMs == 0) {
            // Back to back: store every payload first, then start every all-push at once, so the
            // fan-out, not the API's answer time, sets the pace.
            List<Made> made = storePayloads(api, 1, o.broadcasts);
            failed += o.broadcasts - made.size();
            List<CompletableFuture<AppApi.Answer>> calls = new ArrayList<>();
            for (Made m : made) {
                calls.add(api.postAsync("/v1/push/all", allBody(m.taskId())));
            }
            for (int i = 0; i < calls.size(); i++) {
                Made m = made.get(i);
                AppApi.Answer a = calls.get(i).get(60, TimeUnit.SECONDS);
                if (a.status() / 100 != 2) {
                    failed++;
                    say("all-push " + m.k() + " answered " + a.status() + ": " + a.raw());
                    continue;
                }
                sent.add(new Sent(m.k(), m.payloadMicros(), a.startMicros(), a.endMicros(), m.taskId()));
            }
        }
        for (int k = 1; o.inFlight == 0 && o.intervalMs > 0 && k <= o.broadcasts; k++) {
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
        // --in-flight with nothing timed out: every device had every broadcast already (the stats lines that the
        // drain reads lag by up to --stats-ms, which would add idle time to the CPU window).
        boolean allComplete = measured != null && measured.timedOut().isEmpty();
        long drainEnd = System.nanoTime() + Duration.ofSeconds(o.drainSeconds).toNanos();
        while (!allComplete && System.nanoTime() < drainEnd && devices.totals().received() - received0 < expected) {
            sleep(100);
            if (System.nanoTime() - lastPrint >= o.progressSeconds * 1_000_000_000L) {
                lastPrint = System.nanoTime();
                say(String.format("drain: received %,d of %,d", devices.totals().received() - received0, expected));
            }
        }
        CpuMeter.Snapshot s1 = cpu.snapshot();
        Map<String, Double> runCpu = s1.percentSince(s0);
        CountWait countWait = o.countWaitSeconds == 0 || sent.isEmpty() ? null : new CountWait(api, cpu, sent);

        List<JsonNode> finals = devices.finals(Duration.ofSeconds(30));
        Histogram fromCall = new Histogram();
        Histogram fromAnswer = new Histogram();
        Histogram fanOut = new Histogram();
        // The API answers once the broadcast is recorded, before the fan-out: its own time, apart from delivery.
        Histogram answer = new Histogram();
        sent.forEach(s -> answer.record(s.answerMicros() - s.callMicros()));
        long received = 0;
        long matched = 0;
        // Per broadcast in send order (null: no device got it): how fan-out moves over the run, e.g. with the JIT's warm-up.
        var fanOutInOrder = j.putArray("fanOutByBroadcastMs");
        Map<String, Long> receiptsByTask = new LinkedHashMap<>();
        for (JsonNode f : finals) {
            received += f.path("received").asLong();
        }
        long lastReceipt = DeviceProcesses.lastReceiptAt(finals);
        received -= received0;
        for (Sent s : sent) {
            Histogram perK = DeviceProcesses.broadcastReceipts(finals, s.k());
            matched += perK.count();
            receiptsByTask.put(s.taskId(), perK.count());
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
        Map<String, Double> perDelivery = CpuMeter.microsPerDelivery(s1.secondsSince(s0), matched);
        cpuJson(j, "cpuUsPerDelivery", perDelivery);
        if (measured != null) {
            measured.putJson(j);
        }
        ObjectNode counts = j.putObject("countWait");
        Map<String, Double> perDeliveryCounted = Map.of();
        if (countWait == null) {
            counts.put("skipped", o.countWaitSeconds == 0 ? "--count-wait-seconds 0" : "no accepted broadcast");
        } else {
            perDeliveryCounted = countWait.finish(receiptsByTask, lastReceipt, firstCall, s0, counts);
        }
        // Thread CPU and JFR up to here: the ack counting after the last receipt is part of the cost measured.
        profileStop(report);

        report.row("all-pushes accepted", sent.size() + " / " + o.broadcasts, failed + " failed");
        if (measured != null) {
            measured.putRow(report, "on every connected device");
        }
        report.row("deliveries", Report.count(matched) + " / " + Report.count(expected),
                "loss " + loss + " (connected devices × accepted all-pushes − received)");
        report.row("deliveries per second", String.format("%,.0f /s", perSecond), String.format(
                "first /all call → last receipt, %.2f s%s; target ≥ 650,000/s at 10,000 devices back to back", window,
                o.inFlight > 0 ? ", at most " + o.inFlight + " all-pushes in flight"
                        + (o.intervalMs > 0 ? ", one /all every " + o.intervalMs + " ms at most" : "")
                        : o.intervalMs == 0 ? ", every /all started at once" : ", one /all every " + o.intervalMs + " ms"));
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
        report.row("cpu µs per delivery", CpuMeter.describeMicros(perDelivery),
                "measured phase → last receipt; server = all but the clients");
        if (counts.has("caughtUp")) {
            report.row("delivered counts", Report.count(counts.path("counted").asLong()) + " / "
                    + Report.count(counts.path("receipts").asLong()), counts.path("caughtUp").asBoolean()
                    ? String.format(counts.path("countedByFirstLook").asBoolean()
                    ? "caught up by the first look, %.0f ms after the last receipt (the lag is at most that)"
                    : "caught up %.0f ms after the last receipt (to within a poll round)",
                    counts.path("countLagMs").asDouble())
                    : "NOT caught up: " + counts.path("stoppedBecause").asText());
            report.row("cpu µs per delivery to counted", CpuMeter.describeMicros(perDeliveryCounted),
                    "measured phase → last counted ack (device ACK counting included; polling too)");
        }
        report.note("Client and platform share this machine's 2 cores; cpu is percent of one core "
                + "(platform = this JVM: Kafka, dispatcher, logic node).");
        finish(report);
        result = j;
        return 0;
    }

    private InFlight newFlight(DeviceProcesses devices) {
        return new InFlight(o.inFlight, devices.processes(), Duration.ofSeconds(o.inFlightTimeoutSeconds).toNanos(),
                System::nanoTime);
    }

    /** Stores the payloads of broadcasts {@code first}, {@code first + 1}, … ({@code n}); a failed one is left out. */
    private List<Made> storePayloads(AppApi api, int first, int n) {
        List<Made> made = new ArrayList<>();
        for (int k = first; k < first + n; k++) {
            long t = EpochClock.nowMicros();
            AppApi.Answer p = api.post("/v1/push/payload", payload(k, t));
            if (p.status() != 200 || p.body() == null || !p.body().hasNonNull("taskId")) {
                say("payload " + k + " answered " + p.status() + ": " + p.raw());
                continue;
            }
            made.add(new Made(k, t, p.body().get("taskId").asText()));
        }
        return made;
    }

    /**
     * All-pushes {@code made} under {@code flight}'s bound (and --interval-ms, if any, between calls), then waits
     * until none is outstanding; returns the accepted ones in call order. {@code progress}: the tail of the
     * progress line, null for none.
     */
    private List<Sent> sendInFlight(AppApi api, List<Made> made, InFlight flight,
                                    java.util.function.Supplier<String> progress) throws Exception {
        List<CompletableFuture<Sent>> calls = new ArrayList<>();
        long start = System.nanoTime();
        long lastPrint = start;
        for (int i = 0; i < made.size(); i++) {
            Made m = made.get(i);
            long due = start + (long) i * o.intervalMs * 1_000_000L;
            while (System.nanoTime() < due) {
                sleep(Math.max(1, Math.min(50, (due - System.nanoTime()) / 1_000_000)));
            }
            flight.awaitSlot();
            flight.started(m.k());
            calls.add(api.postAsync("/v1/push/all", allBody(m.taskId())).handle((a, err) -> {
                if (err != null || a.status() / 100 != 2) {
                    flight.failed(m.k());
                    say("all-push " + m.k() + " " + (err != null ? "failed: " + err : "answered " + a.status() + ": " + a.raw()));
                    return null;
                }
                return new Sent(m.k(), m.payloadMicros(), a.startMicros(), a.endMicros(), m.taskId());
            }));
            long now = System.nanoTime();
            if (progress != null && now - lastPrint >= o.progressSeconds * 1_000_000_000L) {
                lastPrint = now;
                say(String.format("broadcast %d/%d called, %d done, %d timed out, %d in flight | %s", i + 1,
                        made.size(), flight.completed(), flight.timedOut().size(), flight.outstanding(), progress.get()));
            }
        }
        flight.awaitNone();
        List<Sent> sent = new ArrayList<>();
        for (CompletableFuture<Sent> c : calls) {
            Sent s = c.get(60, TimeUnit.SECONDS);
            if (s != null) {
                sent.add(s);
            }
        }
        return sent;
    }

    /**
     * After the last receipt: polls {@code GET /v1/tasks/{taskId}} of the measured broadcasts until each one's
     * {@code delivered} reaches what its devices received, no count moved for {@link #COUNT_QUIET}, or
     * --count-wait-seconds passed. The first look comes right after the drain, before the devices' receipts are
     * collected, so that a short lag is seen as such.
     */
    private final class CountWait {
        private final AppApi api;
        private final CpuMeter cpu;
        private final long start = System.nanoTime();
        private final long firstLookMicros = EpochClock.nowMicros();
        private final CountCatchUp counts;
        private CpuMeter.Snapshot atLastMove;
        private boolean movedAfterFirstRound;
        private long rounds;
        private String stopped;

        CountWait(AppApi api, CpuMeter cpu, List<Sent> sent) {
            this.api = api;
            this.cpu = cpu;
            this.counts = new CountCatchUp(sent.stream().map(Sent::taskId).toList(), start);
            round();
        }

        /** One look at every task not caught up; a failed look ends the wait ({@link #stopped} says why). */
        private void round() {
            long before = counts.counted();
            List<String> pending = counts.pending();
            for (int from = 0; from < pending.size() && stopped == null; from += COUNT_PARALLEL) {
                List<String> batch = pending.subList(from, Math.min(pending.size(), from + COUNT_PARALLEL));
                List<CompletableFuture<AppApi.Answer>> calls = new ArrayList<>();
                batch.forEach(task -> calls.add(api.getAsync("/v1/tasks/" + task)));
                for (int i = 0; i < batch.size(); i++) {
                    AppApi.Answer a;
                    try {
                        a = calls.get(i).get(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        stopped = "GET /v1/tasks/" + batch.get(i) + " failed: " + e;
                        break;
                    }
                    if (a.status() != 200 || a.body() == null) {
                        stopped = "GET /v1/tasks/" + batch.get(i) + " answered " + a.status() + ": " + a.raw();
                        break;
                    }
                    counts.observe(batch.get(i), a.body().path("delivered").asLong(), System.nanoTime(), a.endMicros());
                }
            }
            rounds++;
            if (counts.counted() != before) {
                atLastMove = cpu.snapshot();
                movedAfterFirstRound = rounds > 1;
            }
        }

        /**
         * Goes on looking until the counts reach {@code receiptsByTask}, stall or the time is up; the outcome into
         * {@code out}. Returns CPU µs per delivery from {@code s0} to the round that saw the last count move (empty
         * when nothing was counted).
         */
        Map<String, Double> finish(Map<String, Long> receiptsByTask, long lastReceiptMicros, long firstCallMicros,
                                   CpuMeter.Snapshot s0, ObjectNode out) {
            counts.expect(receiptsByTask);
            long deadline = start + Duration.ofSeconds(o.countWaitSeconds).toNanos();
            while (stopped == null) {
                long now = System.nanoTime();
                if (counts.caughtUp()) {
                    stopped = "caught up";
                } else if (counts.stalled(now, COUNT_QUIET.toNanos())) {
                    stopped = "no count moved for " + COUNT_QUIET.toSeconds() + " s";
                } else if (now - deadline >= 0) {
                    stopped = "--count-wait-seconds " + o.countWaitSeconds + " passed";
                } else {
                    sleep(COUNT_POLL_MS);
                    round();
                }
            }
            long counted = counts.counted();
            out.put("caughtUp", counts.caughtUp());
            out.put("stoppedBecause", stopped);
            out.put("receipts", counts.receipts());
            out.put("counted", counted);
            out.put("shortfall", counts.receipts() - counted);
            out.put("waitedSeconds", Report.round2((System.nanoTime() - start) / 1e9));
            out.put("pollRounds", rounds);
            long lastMove = counts.lastMoveMicros();
            // A count already complete at the first look has a lag of at most that, not exactly that.
            out.put("firstLookMs", Report.round1((firstLookMicros - lastReceiptMicros) / 1000.0));
            out.put("countedByFirstLook", lastMove > 0 && !movedAfterFirstRound);
            if (lastMove > 0) {
                // Seen at a poll answer: an upper bound, within one round of when the last ack was counted.
                out.put("countLagMs", Report.round1((lastMove - lastReceiptMicros) / 1000.0));
                out.put("windowToCountedSeconds", Report.round2((lastMove - firstCallMicros) / 1e6));
            } else {
                out.putNull("countLagMs");
            }
            Map<String, Double> perDelivery = atLastMove == null ? Map.of()
                    : CpuMeter.microsPerDelivery(atLastMove.secondsSince(s0), counts.receipts());
            cpuJson(out, "cpuUsPerDelivery", perDelivery);
            say(String.format("counts: %,d of %,d receipts counted (%s)%s", counted, counts.receipts(), stopped,
                    lastMove > 0 ? String.format(", last count %.0f ms after the last receipt",
                            (lastMove - lastReceiptMicros) / 1000.0) : ""));
            return perDelivery;
        }
    }

    private static String allBody(String taskId) {
        return ChildIo.JSON.createObjectNode().put("taskId", taskId).toString();
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
        AppApi.Answer a = api.post("/v1/push/all", allBody(taskId));
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
