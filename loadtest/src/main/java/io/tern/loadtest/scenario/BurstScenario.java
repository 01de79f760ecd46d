package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.devstack.process.RoleProcess;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code burst --capacity C [--rate 10C] [--seconds 20]}: the platform as processes with two rate controllers and
 * two bypass consumers, brokers of {@code broker.capacity} = C / brokers, and single pushes at R/s for T s (by
 * default ten times what the brokers can deliver). Every 250 ms it samples the downstream (the brokers' delivery
 * rates summed, as the controller reads them), the buffer's lag (records of {@code tern.buffer} the bypass group
 * has not committed) and the generator's accepted count; after the burst it waits until the buffer is empty and
 * every accepted push arrived. Reports accepted/s, the downstream's peak against C, lag over time, drain time and
 * loss; targets: nothing refused, downstream never above 90 % of C, nothing lost.
 */
final class BurstScenario extends ClusterScenario {
    private static final Duration SAMPLE = Duration.ofMillis(250);
    private ObjectNode result;

    BurstScenario(Options o, PrintStream out) {
        super(o, out);
    }

    /** One sample: time since the burst started, downstream deliveries/s, buffer lag, pushes accepted so far. */
    private record Sample(double seconds, double downstream, long lag, long accepted) {
    }

    @Override
    public int run() throws Exception {
        int perBroker = Math.max(1, o.capacity / o.brokers);
        int capacity = perBroker * o.brokers;
        say(String.format("run directory %s (a log per process); C = %,d deliveries/s over %d broker(s), pushes %,d/s for %d s",
                o.runDir, capacity, o.brokers, o.rate, o.seconds));
        o.set.putIfAbsent("broker.capacity", Integer.toString(perBroker));
        startCluster(o.brokers, c -> c.withThrottling(2, 2));
        RegistryWatch registry = new RegistryWatch(cluster.redisUri(), cluster.brokers().stream().map(RoleProcess::id).toList(),
                SAMPLE);
        DeviceProcesses devices = startClusterDevices(List.of());
        awaitConnected(devices);
        List<Sample> samples = new ArrayList<>();
        JsonNode fin;
        Delivery d;
        double sendEnd;
        double drained;
        try (Admin kafka = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap()));
             PushStream pushes = pushStream(devices, o.rate, o.seconds)) {
            long t0 = System.nanoTime();
            pushes.go();
            long lastPrint = t0;
            // The burst, then the drain: sampled until the buffer is empty and every accepted push arrived.
            long deadline = t0 + Duration.ofSeconds(o.seconds + o.drainSeconds).toNanos();
            fin = null;
            sendEnd = 0;
            drained = -1;
            while (System.nanoTime() < deadline) {
                double t = (System.nanoTime() - t0) / 1e9;
                JsonNode st = pushes.stats();
                long accepted = st == null ? 0 : st.path("accepted").asLong();
                Sample s = new Sample(t, registry.brokers().values().stream()
                        .mapToDouble(b -> b.deliveries().perSecond()).sum(), lag(kafka), accepted);
                samples.add(s);
                if (fin == null && (fin = pushes.finalStats()) != null) {
                    sendEnd = (System.nanoTime() - t0) / 1e9;
                }
                if (fin != null && s.lag() == 0 && devices.totals().received() >= fin.path("accepted").asLong()) {
                    drained = (System.nanoTime() - t0) / 1e9;
                    break;
                }
                if (System.nanoTime() - lastPrint > o.progressSeconds * 1_000_000_000L) {
                    say(String.format("%s: accepted %,d, downstream %,.0f/s of %,d/s, buffer lag %,d, received %,d",
                            fin == null ? "burst" : "drain", s.accepted(), s.downstream(), capacity, s.lag(),
                            devices.totals().received()));
                    lastPrint = System.nanoTime();
                }
                sleep(SAMPLE.toMillis());
            }
            if (fin == null) {
                fin = pushes.awaitFinal();
            }
            d = drain(devices, fin.path("accepted").asLong());
        } finally {
            registry.close();
        }

        long accepted = d.accepted();
        double acceptedPerSecond = accepted / Math.max(o.seconds, 1e-3);
        double peak = samples.stream().mapToDouble(Sample::downstream).max().orElse(0);
        long peakLag = samples.stream().mapToLong(Sample::lag).max().orElse(0);
        boolean withinCap = peak <= 0.9 * capacity;
        long refused = refused(fin);
        Report report = new Report(String.format("burst: %,d pushes/s for %d s against C = %,d deliveries/s (%d brokers), "
                + "%,d devices", o.rate, o.seconds, capacity, o.brokers, o.devices), "burst");
        ObjectNode j = report.json;
        j.put("devices", o.devices);
        j.put("brokers", o.brokers);
        j.put("capacityPerSecond", capacity);
        j.put("rate", o.rate);
        j.put("seconds", o.seconds);
        j.put("sent", fin.path("sent").asLong());
        j.put("notSent", fin.path("dropped").asLong());
        j.put("accepted", accepted);
        j.put("acceptedPerSecond", Math.round(acceptedPerSecond));
        j.put("sentDirect", fin.path("statusSent").asLong());
        j.put("queued", fin.path("statusQueued").asLong());
        j.put("refused", refused);
        j.put("downstreamPeakPerSecond", Report.round1(peak));
        j.put("downstreamPeakOfCapacity", Report.round2(peak / capacity));
        j.put("bufferPeakLag", peakLag);
        j.put("answeredAfterSeconds", Report.round1(sendEnd));
        j.put("drainSeconds", drained < 0 ? -1 : Report.round1(drained - sendEnd));
        j.put("delivered", d.delivered());
        j.put("lost", d.lost());
        j.put("duplicates", d.duplicates());
        ArrayNode series = j.putArray("series");
        double nextAt = 0;
        for (Sample s : samples) {
            if (s.seconds() >= nextAt) {
                series.addObject().put("t", Report.round1(s.seconds())).put("downstream", Math.round(s.downstream()))
                        .put("lag", s.lag()).put("accepted", s.accepted());
                nextAt = Math.floor(s.seconds()) + 1;
            }
        }
        report.row("accepted", Report.count(accepted), String.format("%,.0f/s over %d s (asked %,d/s = %.1f x C; %,d sent, "
                        + "%,d not sent: generator backlog full); %,d direct within the permit, %,d queued in Kafka; "
                        + "%,d refused (429 %,d, other %,d, no answer %,d)",
                acceptedPerSecond, o.seconds, o.rate, (double) o.rate / capacity, fin.path("sent").asLong(),
                fin.path("dropped").asLong(), fin.path("statusSent").asLong(),
                fin.path("statusQueued").asLong(), refused, fin.path("rejected429").asLong(), fin.path("otherErrors").asLong(),
                fin.path("ioErrors").asLong()));
        report.row("downstream peak", String.format("%,.0f/s", peak), String.format("%.0f %% of C = %,d/s (target ≤ 90 %%); "
                + "brokers' delivery rates summed every %d ms", 100 * peak / capacity, capacity, SAMPLE.toMillis()));
        report.row("buffer lag peak", Report.count(peakLag), "records in tern.buffer not yet committed by tern-bypass");
        report.row("drain", drained < 0 ? "NOT DRAINED" : String.format("%.1f s", drained - sendEnd),
                "every push answered → buffer empty and every accepted push on its device");
        report.row("delivered", Report.count(d.delivered()), "distinct messages the devices received");
        report.row("lost", Report.count(d.lost()), "accepted − delivered");
        report.row("duplicates", Report.count(d.duplicates()), "dropped by the SDK's de-duplication");
        report.note("over time (t s: downstream/s, lag, accepted):");
        StringBuilder line = new StringBuilder("  ");
        for (JsonNode s : series) {
            if (s.path("t").asDouble() % 5 < 1) {
                line.append(String.format("%.0f: %,d/s, %,d, %,d · ", s.path("t").asDouble(), s.path("downstream").asLong(),
                        s.path("lag").asLong(), s.path("accepted").asLong()));
            }
        }
        report.note(line.toString());
        report.note(String.format("targets: none refused %s, downstream ≤ 90 %% of C %s, lost 0 %s",
                refused == 0 ? "met" : "MISSED", withinCap ? "met" : "MISSED", d.lost() == 0 ? "met" : "MISSED"));
        finish(report);
        result = j;
        return refused == 0 && withinCap && d.lost() == 0 && drained >= 0 ? 0 : 1;
    }

    /** Records of {@code tern.buffer} the bypass group has not committed; -1 when Kafka did not answer. */
    private static long lag(Admin kafka) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = kafka.listConsumerGroupOffsets(Topics.BYPASS_GROUP)
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
            kafka.describeTopics(List.of(Topics.BUFFER)).allTopicNames().get().get(Topics.BUFFER).partitions()
                    .forEach(p -> ends.put(new TopicPartition(Topics.BUFFER, p.partition()), OffsetSpec.latest()));
            long lag = 0;
            for (var e : kafka.listOffsets(ends).all().get().entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                lag += e.getValue().offset() - (c == null ? 0 : c.offset());
            }
            return lag;
        } catch (Exception e) {
            return -1;
        }
    }

    @Override
    public ObjectNode result() {
        return result;
    }
}
