package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.devstack.process.RoleProcess;
import io.tern.loadtest.api.AppApi;
import io.tern.loadtest.platform.Platform;
import io.tern.loadtest.stats.EpochClock;
import io.tern.loadtest.stats.Histogram;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code redis-outage [--outage-seconds 60 | --quick]}: every role, Redis (AOF always), Kafka, the disk KV and one
 * disk-KV backup as processes; devices connected; single pushes at R/s for T s, then Redis SIGKILLed for the
 * outage, restarted on its AOF, then T s more; meanwhile a group push every 2 s of tasks created before the run
 * (alternately a list push to 100 devices and a broadcast to all). Reports per phase (before / during / after):
 * single pushes accepted/s and refused, p50/p99 intended send → delivery, group pushes answered 2xx / refused and
 * the copies the devices got; and the run's loss (accepted singles not received after the drain). Stops by itself
 * (every process has a maximum lifetime, the phases are timed).
 */
final class RedisOutageScenario extends ClusterScenario {
    private static final int GROUP_EVERY_MS = 2_000;
    private static final int LIST_SIZE = 100;
    private static final List<String> PHASES = List.of("before", "during", "after");
    private ObjectNode result;

    RedisOutageScenario(Options o, PrintStream out) {
        super(o, out);
    }

    @Override
    protected long maxLifetimeSeconds() {
        return super.maxLifetimeSeconds() + o.seconds + o.outageSeconds;
    }

    /** A group push the run made: its number k (in the payload), kind, phase and answer. */
    private record GroupCall(long k, boolean all, String phase, int status, long micros) {
    }

    @Override
    public int run() throws Exception {
        say(String.format("run directory %s; %,d devices, %,d single pushes/s, %d s before, %d s of Redis outage, %d s "
                + "after", o.runDir, o.devices, o.rate, o.seconds, o.outageSeconds, o.seconds));
        startCluster(Math.max(o.brokers, 2), c -> c.withDiskKvBackups(1));
        DeviceProcesses devices = startClusterDevices(List.of());
        awaitConnected(devices);
        RoleProcess node = cluster.logicNodes().get(0);
        AppApi api = new AppApi("http://127.0.0.1:" + node.port("http"));
        api.login(Platform.APP_ID, Platform.APP_KEY, Platform.APP_SECRET);
        int total = 2 * o.seconds + o.outageSeconds;
        int groupPushes = total * 1000 / GROUP_EVERY_MS;
        // Tasks created before the run (a task cannot be created during an outage): their bodies reach the disk KV
        // through tern.bodies and the backup.
        List<String> taskIds = new ArrayList<>();
        for (int k = 1; k <= groupPushes; k++) {
            AppApi.Answer a = api.post("/v1/push/payload", "{\"data\":{\"k\":" + k + ",\"t\":" + EpochClock.nowMicros()
                    + "},\"ttlSeconds\":" + o.ttlSeconds + "}");
            if (a.status() != 200) {
                throw new IllegalStateException("creating task " + k + " answered " + a.status() + ": " + a.raw());
            }
            taskIds.add(a.body().get("taskId").asText());
        }
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < Math.min(LIST_SIZE, devices.count(1)); i++) {
            list.append(i == 0 ? "" : ",").append('"').append(DeviceProcesses.prefix("d", 1)).append(i).append('"');
        }
        int listSize = Math.min(LIST_SIZE, devices.count(1));
        sleep(2_000); // the backup's lag (p99 ≤ 1 s)

        Map<String, long[]> acceptedAt = new LinkedHashMap<>(); // phase → {accepted, refused} at its end
        List<GroupCall> calls = new ArrayList<>();
        JsonNode fin;
        try (PushStream pushes = pushStream(devices, o.rate, total)) {
            long t0 = System.nanoTime();
            long[] windowStart = new long[1];
            windowStart[0] = EpochClock.nowMicros();
            devices.send("window before " + windowStart[0] + " " + Long.MAX_VALUE);
            pushes.go();
            long[] ends = {o.seconds, o.seconds + o.outageSeconds, total};
            int phase = 0;
            int k = 0;
            long nextGroup = t0;
            while (phase < 3) {
                long now = System.nanoTime();
                if (now - t0 >= ends[phase] * 1_000_000_000L) {
                    JsonNode st = pushes.stats();
                    acceptedAt.put(PHASES.get(phase), new long[]{st == null ? 0 : st.path("accepted").asLong(),
                            st == null ? 0 : refused(st)});
                    long w = EpochClock.nowMicros();
                    devices.send("window " + PHASES.get(phase) + " " + windowStart[0] + " " + w);
                    windowStart[0] = w;
                    if (phase == 0) {
                        say("killing Redis (SIGKILL) for " + o.outageSeconds + " s");
                        cluster.killRedis();
                    } else if (phase == 1) {
                        say("restarting Redis on its AOF");
                        cluster.restartRedis();
                    }
                    phase++;
                    if (phase < 3) {
                        devices.send("window " + PHASES.get(phase) + " " + w + " " + Long.MAX_VALUE);
                    }
                    continue;
                }
                if (now >= nextGroup && k < taskIds.size()) {
                    boolean all = k % 2 == 1;
                    String taskId = taskIds.get(k);
                    k++;
                    String body = all ? "{\"taskId\":\"" + taskId + "\"}"
                            : "{\"taskId\":\"" + taskId + "\",\"regIds\":[" + list + "]}";
                    AppApi.Answer a = api.post(all ? "/v1/push/all" : "/v1/push/list", body);
                    calls.add(new GroupCall(k, all, PHASES.get(phase), a.status(), a.endMicros() - a.startMicros()));
                    nextGroup += GROUP_EVERY_MS * 1_000_000L;
                    continue;
                }
                sleep(50);
            }
            fin = pushes.awaitFinal();
        }
        Delivery d = drain(devices, fin.path("accepted").asLong());
        // Group copies per k, from the devices' per-k histograms (single pushes carry no k).
        Map<Long, Long> copies = new TreeMap<>();
        for (JsonNode f : devices.finals(java.time.Duration.ofSeconds(30))) {
            f.path("broadcasts").fields().forEachRemaining(e -> copies.merge(Long.parseLong(e.getKey()),
                    Histogram.decode(e.getValue().asText()).count(), Long::sum));
        }
        long groupCopies = copies.values().stream().mapToLong(Long::longValue).sum();
        long singlesReceived = d.delivered() - groupCopies;
        long lost = Math.max(0, d.accepted() - singlesReceived);

        Report report = new Report(String.format("redis-outage: %,d devices, %,d single pushes/s, Redis down %d s",
                o.devices, o.rate, o.outageSeconds), "redis-outage");
        ObjectNode j = report.json;
        j.put("devices", o.devices);
        j.put("rate", o.rate);
        j.put("outageSeconds", o.outageSeconds);
        j.put("phaseSeconds", o.seconds);
        ObjectNode phases = j.putObject("phases");
        long prevAccepted = 0;
        long prevRefused = 0;
        for (String p : PHASES) {
            long[] at = acceptedAt.getOrDefault(p, new long[]{prevAccepted, prevRefused});
            long acc = at[0] - prevAccepted;
            long ref = at[1] - prevRefused;
            prevAccepted = at[0];
            prevRefused = at[1];
            int secs = p.equals("during") ? o.outageSeconds : o.seconds;
            Histogram h = d.windows().getOrDefault(p, new Histogram());
            ObjectNode n = phases.putObject(p);
            n.put("singleAccepted", acc);
            n.put("singleAcceptedPerSecond", Report.round1((double) acc / secs));
            n.put("singleRefused", ref);
            n.put("singleDelivered", h.count());
            n.put("singleP50Ms", Report.round1(h.percentile(50) / 1000.0));
            n.put("singleP99Ms", Report.round1(h.percentile(99) / 1000.0));
            List<GroupCall> in = calls.stream().filter(c -> c.phase().equals(p)).toList();
            long ok = in.stream().filter(c -> c.status() / 100 == 2).count();
            long expected = in.stream().filter(c -> c.status() / 100 == 2)
                    .mapToLong(c -> c.all() ? o.devices : listSize).sum();
            long got = in.stream().filter(c -> c.status() / 100 == 2)
                    .mapToLong(c -> copies.getOrDefault(c.k(), 0L)).sum();
            n.put("groupCalls", in.size());
            n.put("groupAccepted", ok);
            n.put("groupRefused", in.size() - ok);
            n.put("groupCopiesExpected", expected);
            n.put("groupCopiesReceived", got);
            ObjectNode statuses = n.putObject("groupStatuses");
            in.forEach(c -> statuses.put(Integer.toString(c.status()), statuses.path(Integer.toString(c.status())).asLong() + 1));
            report.row(p, String.format("%,.0f/s", (double) acc / secs), String.format("single: %,d accepted, %,d "
                            + "refused, p50 %s p99 %s; group: %d/%d calls 2xx, copies %,d of %,d", acc, ref,
                    Report.ms(h.percentile(50)), Report.ms(h.percentile(99)), ok, in.size(), got, expected));
        }
        j.put("accepted", d.accepted());
        j.put("singlesReceived", singlesReceived);
        j.put("lost", lost);
        j.put("duplicates", d.duplicates());
        j.put("groupCopiesReceived", groupCopies);
        double before = phases.path("before").path("singleAcceptedPerSecond").asDouble();
        double during = phases.path("during").path("singleAcceptedPerSecond").asDouble();
        boolean half = before > 0 && during >= before / 2;
        report.row("lost", Report.count(lost), "single pushes accepted − received after the drain");
        report.row("duplicates", Report.count(d.duplicates()), "dropped by the SDK's de-duplication");
        report.note(String.format("targets: none lost %s, throughput during ≥ half of before %s",
                lost == 0 ? "met" : "MISSED", half ? "met" : "MISSED"));
        finish(report);
        result = j;
        return lost == 0 && half ? 0 : 1;
    }

    @Override
    public ObjectNode result() {
        return result;
    }
}
