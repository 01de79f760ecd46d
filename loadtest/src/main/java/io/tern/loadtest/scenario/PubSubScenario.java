package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tern.devstack.RedisServer;
import io.tern.loadtest.device.PubSubFleet;
import io.tern.loadtest.platform.Platform;
import io.tern.loadtest.stats.CpuMeter;
import io.tern.loadtest.stats.EpochClock;
import io.tern.loadtest.stats.Histogram;

import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code pubsub}: the baseline issue 14 measures the broadcast against, in the same sitting and with the same
 * harness. A Redis (no persistence), N subscribers of one channel in device processes (the same processes,
 * event loop and receipt counting as the Tern devices), and M {@code PUBLISH}es of a {@value #PAYLOAD_BYTES}-byte
 * payload {@code {"k": m, "t": epoch µs of the call, "pad": …}} from this JVM, paced as {@code broadcast} paces its
 * all-pushes: one every I ms, all at once (I = 0), or at most {@code --in-flight} not yet received by every
 * subscriber. Reports what {@code broadcast} reports, with the same names in its JSON: deliveries per second,
 * latency from the call to each subscriber's receipt, the call's own time (Redis answers once it has queued the
 * message to every subscriber), fan-out time, loss, and CPU per delivery of Redis and of this JVM (the publisher).
 * Pub/sub has no acknowledgement and no durability: it is the floor a push platform's fan-out is held to, not the
 * same service.
 */
final class PubSubScenario extends Scenario {
    static final int PAYLOAD_BYTES = 100;

    private RedisServer redis;
    private Process redisReaper;
    private RedisClient client;
    private StatefulRedisConnection<String, String> publisher;
    private ObjectNode result;

    PubSubScenario(Options o, PrintStream out) {
        super(o, out);
    }

    /** One publish as the runner saw it (epoch µs): called, answered, and how many subscribers Redis counted. */
    private record Sent(int k, long callMicros, long answerMicros, long receivers) {
    }

    @Override
    public int run() throws Exception {
        Files.createDirectories(o.runDir);
        say("run directory " + o.runDir);
        redis = RedisServer.start(RedisServer.Options.defaults());
        redisReaper = Platform.reaper(redis.pid());
        client = RedisClient.create(redis.uri());
        publisher = client.connect();
        // Redis's default is 10,000 clients: room for every subscriber, the publisher and the samplers.
        publisher.sync().configSet("maxclients", Integer.toString(o.devices + 100));
        say("redis " + redis.uri() + " (pid " + redis.pid() + ", no persistence), channel " + PubSubFleet.CHANNEL);
        startSampler();

        long t = System.nanoTime();
        DeviceProcesses subs = DeviceProcesses.startSubscribers("s", o.devices, o.clients, o,
                redis.host() + ":" + redis.port(), o.runDir, maxLifetimeSeconds());
        deviceGroups.add(subs);
        say(String.format("%d subscriber process(es) up for %,d subscribers, pids %s (%.1f s)", o.clients, o.devices,
                subs.pids(), (System.nanoTime() - t) / 1e9));
        Connected c = connectAll(subs, cpuMeter(subs.pids()));
        say(String.format("%,d of %,d subscribers subscribed in %.1f s", c.connected(), o.devices, c.seconds()));

        AtomicReference<InFlight> flight = new AtomicReference<>();
        subs.onBroadcastComplete((p, k) -> {
            InFlight f = flight.get();
            if (f != null) {
                f.received(k, p);
            }
        });
        Report report = new Report(String.format("pubsub: %d publishes to %,d Redis subscribers (the baseline)",
                o.broadcasts, o.devices), "pubsub");
        ObjectNode j = report.json;
        j.put("devices", o.devices);
        j.put("connected", c.connected());
        j.put("broadcasts", o.broadcasts);
        j.put("intervalMs", o.intervalMs);
        j.put("inFlight", o.inFlight);
        j.put("payloadBytes", PAYLOAD_BYTES);

        if (o.warmupBroadcasts > 0) {
            long before = subs.totals().received();
            if (o.inFlight > 0) {
                flight.set(newFlight(subs));
            }
            List<Sent> warm = publishAll(10_001, o.warmupBroadcasts, flight.get());
            long want = before + (long) warm.size() * c.connected();
            subs.awaitReceived(want, Duration.ofSeconds(o.drainSeconds));
            say(String.format("warm-up: %d publishes, %,d of %,d received; measuring now", warm.size(),
                    subs.totals().received() - before, want - before));
            subs.resetReceipts(Duration.ofSeconds(10));
        }

        CpuMeter cpu = cpuMeter(subs.pids());
        profileStart(withClients(Map.of("publisher", ProcessHandle.current().pid()), subs.pids()));
        long received0 = subs.totals().received();
        CpuMeter.Snapshot s0 = cpu.snapshot();
        InFlight measured = o.inFlight > 0 ? newFlight(subs) : null;
        flight.set(measured);
        List<Sent> sent = publishAll(1, o.broadcasts, measured);
        int failed = o.broadcasts - sent.size();
        long expected = (long) sent.size() * c.connected();
        if (measured == null || !measured.timedOut().isEmpty()) {
            subs.awaitReceived(received0 + expected, Duration.ofSeconds(o.drainSeconds));
        }
        CpuMeter.Snapshot s1 = cpu.snapshot();
        Map<String, Double> runCpu = s1.percentSince(s0);
        profileStop(report);

        List<JsonNode> finals = subs.finals(Duration.ofSeconds(30));
        Histogram fromCall = new Histogram();
        Histogram fanOut = new Histogram();
        Histogram answer = new Histogram();
        sent.forEach(s -> answer.record(s.answerMicros() - s.callMicros()));
        long lastReceipt = DeviceProcesses.lastReceiptAt(finals);
        long matched = 0;
        var fanOutInOrder = j.putArray("fanOutByBroadcastMs");
        for (Sent s : sent) {
            // The payload's t is the call's start: the histograms are call → receipt already.
            Histogram perK = DeviceProcesses.broadcastReceipts(finals, s.k());
            matched += perK.count();
            fromCall.add(perK);
            if (perK.count() > 0) {
                fanOut.record(perK.max());
                fanOutInOrder.add(Report.round2(perK.max() / 1000.0));
            } else {
                fanOutInOrder.addNull();
            }
        }
        long loss = expected - matched;
        long receivers = sent.stream().mapToLong(Sent::receivers).sum();
        long firstCall = sent.stream().mapToLong(Sent::callMicros).min().orElse(0);
        double window = sent.isEmpty() || lastReceipt == 0 ? 0 : (lastReceipt - firstCall) / 1e6;
        double perSecond = window <= 0 ? 0 : matched / window;
        Map<String, Double> perDelivery = CpuMeter.microsPerDelivery(s1.secondsSince(s0), matched);

        j.put("accepted", sent.size());
        j.put("failed", failed);
        j.put("expected", expected);
        j.put("receiversCountedByRedis", receivers);
        j.put("matched", matched);
        j.put("loss", loss);
        j.put("deliveriesPerSecond", Math.round(perSecond));
        j.put("windowSeconds", Report.round2(window));
        SingleScenario.putLatency(j.putObject("latencyFromCallMs"), fromCall);
        SingleScenario.putLatency(j.putObject("answerMs"), answer);
        SingleScenario.putLatency(j.putObject("fanOutMs"), fanOut);
        cpuJson(j, "cpuPct", runCpu);
        cpuJson(j, "cpuUsPerDelivery", perDelivery);
        if (measured != null) {
            measured.putJson(j);
        }

        report.row("publishes", sent.size() + " / " + o.broadcasts, failed + " failed");
        if (measured != null) {
            measured.putRow(report, "by every subscriber");
        }
        report.row("deliveries", Report.count(matched) + " / " + Report.count(expected),
                "loss " + loss + " (subscribed × publishes − received); Redis counted " + Report.count(receivers));
        report.row("deliveries per second", String.format("%,.0f /s", perSecond), String.format(
                "first PUBLISH → last receipt %.2f s", window));
        report.row("latency p50 / p99 / max", Report.ms(fromCall.percentile(50)) + " / "
                + Report.ms(fromCall.percentile(99)) + " / " + Report.ms(fromCall.max()), "PUBLISH call → subscriber decoded it");
        report.row("PUBLISH answer p50 / p99", Report.ms(answer.percentile(50)) + " / " + Report.ms(answer.percentile(99)),
                "Redis answers once the message is queued to every subscriber");
        report.row("fan-out time p50 / max", Report.ms(fanOut.percentile(50)) + " / " + Report.ms(fanOut.max()),
                "PUBLISH call → last subscriber of that message");
        report.row("cpu", CpuMeter.describe(runCpu), "clients = subscriber processes; publisher = this JVM");
        report.row("cpu µs per delivery", CpuMeter.describeMicros(perDelivery),
                "measured phase → last receipt; server = redis and the publisher");
        report.note("Subscribers, Redis and the publisher share this machine's 2 cores; cpu is percent of one core.");
        finish(report);
        result = j;
        return 0;
    }

    /**
     * Publishes {@code n} messages numbered from {@code first}, paced by {@code flight} (when not null) and
     * --interval-ms; returns the answered ones in call order.
     */
    private List<Sent> publishAll(int first, int n, InFlight flight) throws Exception {
        List<CompletableFuture<Sent>> calls = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int k = first + i;
            long due = start + (long) i * o.intervalMs * 1_000_000L;
            while (System.nanoTime() < due) {
                sleep(Math.max(1, Math.min(50, (due - System.nanoTime()) / 1_000_000)));
            }
            if (flight != null) {
                flight.awaitSlot();
                flight.started(k);
            }
            long call = EpochClock.nowMicros();
            CompletableFuture<Sent> f = publisher.async().publish(PubSubFleet.CHANNEL, payload(k, call))
                    .toCompletableFuture().handle((receivers, err) -> {
                        if (err != null) {
                            if (flight != null) {
                                flight.failed(k);
                            }
                            say("publish " + k + " failed: " + err);
                            return null;
                        }
                        return new Sent(k, call, EpochClock.nowMicros(), receivers);
                    });
            calls.add(f);
            if (flight == null && o.intervalMs > 0) {
                // One call at a time, as broadcast's paced all-pushes are.
                f.get(30, TimeUnit.SECONDS);
            }
        }
        if (flight != null) {
            flight.awaitNone();
        }
        List<Sent> sent = new ArrayList<>();
        for (CompletableFuture<Sent> f : calls) {
            Sent s = f.get(60, TimeUnit.SECONDS);
            if (s != null) {
                sent.add(s);
            }
        }
        return sent;
    }

    /** {@code {"k":…,"t":…,"pad":"…"}} padded to {@link #PAYLOAD_BYTES}. */
    static String payload(int k, long micros) {
        String head = "{\"k\":" + k + ",\"t\":" + micros + ",\"pad\":\"";
        return head + "x".repeat(Math.max(0, PAYLOAD_BYTES - head.length() - 2)) + "\"}";
    }

    private InFlight newFlight(DeviceProcesses subs) {
        return new InFlight(o.inFlight, subs.processes(), Duration.ofSeconds(o.inFlightTimeoutSeconds).toNanos(),
                System::nanoTime);
    }

    @Override
    protected Map<String, List<Long>> sampledGroups() {
        Map<String, List<Long>> g = new LinkedHashMap<>();
        g.put("clients", clientPids());
        g.put("redis", List.of(redis.pid()));
        g.put("publisher", List.of(ProcessHandle.current().pid()));
        return g;
    }

    @Override
    protected CpuMeter cpuMeter(List<Long> clientPids) {
        return new CpuMeter()
                .group(CpuMeter.CLIENTS, clientPids)
                .group("redis", List.of(redis.pid()))
                .group("publisher", List.of(ProcessHandle.current().pid()));
    }

    /** Redis's client connections less this run's own (publisher, sampler); -1 when it did not answer. */
    @Override
    protected long brokerConnectionsNow() {
        try {
            String info = publisher.sync().info("clients");
            for (String line : info.split("\r?\n")) {
                if (line.startsWith("connected_clients:")) {
                    return Long.parseLong(line.substring("connected_clients:".length()).trim()) - 1;
                }
            }
        } catch (RuntimeException e) {
            // reported as unknown
        }
        return -1;
    }

    @Override
    protected String connectionsHeldBy() {
        return "redis";
    }

    @Override
    protected String brokerConnections() {
        return String.format("redis %,d subscribers", brokerConnectionsNow());
    }

    @Override
    public ObjectNode result() {
        return result;
    }

    @Override
    public void close() {
        super.close();
        if (publisher != null) {
            publisher.close();
        }
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        if (redisReaper != null) {
            redisReaper.destroyForcibly();
        }
        if (redis != null) {
            redis.close();
        }
    }
}
