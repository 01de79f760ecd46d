package io.tern.diskkv.lag;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Records the backup group has not committed yet, per topic: end offsets minus the group's committed offsets (a
 * partition never committed counts from its start), read with Kafka Admin every {@code refresh} on its own thread.
 * Unlike the consumer's own position this keeps growing while the consumer is down or backing off (disk KV away),
 * which is when it matters. {@code tern_backup_lag_records{topic}}; -1 until first read or while Kafka is unreachable.
 */
public final class GroupLag implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupLag.class);
    private static final long UNKNOWN = -1;

    private final Admin admin;
    private final String group;
    private final List<String> topics;
    private final Duration timeout;
    private final String name;
    private final Map<String, Long> behind = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile boolean failing;

    public GroupLag(String bootstrap, String group, List<String> topics, Duration refresh, MeterRegistry registry,
                    String name) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, name + "-lag");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(1000, refresh.toMillis()));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.max(2000, refresh.toMillis() * 2));
        this.admin = Admin.create(p);
        this.group = group;
        this.topics = List.copyOf(topics);
        this.timeout = Duration.ofMillis(Math.max(2000, refresh.toMillis() * 2));
        this.name = name;
        for (String t : topics) {
            behind.put(t, UNKNOWN);
            Gauge.builder("tern.backup.lag.records", behind, m -> m.getOrDefault(t, UNKNOWN)).tag("topic", t)
                    .description("records of the topic the backup group has not committed (-1: unknown)")
                    .register(registry);
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, name + "-lag");
            th.setDaemon(true);
            return th;
        });
        timer.scheduleWithFixedDelay(this::refresh, 0, refresh.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** @return records behind on {@code topic} at the last read, -1 when unknown */
    public long behind(String topic) {
        return behind.getOrDefault(topic, UNKNOWN);
    }

    private void refresh() {
        try {
            Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
            described.values().forEach(d -> d.partitions().forEach(
                    p -> ends.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
            var endOffsets = admin.listOffsets(ends).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            var earliest = admin.listOffsets(toEarliest(ends)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, Long> sums = new HashMap<>();
            topics.forEach(t -> sums.put(t, 0L));
            endOffsets.forEach((tp, end) -> {
                OffsetAndMetadata c = committed.get(tp);
                long from = c != null ? c.offset() : earliest.get(tp).offset();
                sums.merge(tp.topic(), Math.max(0, end.offset() - from), Long::sum);
            });
            behind.putAll(sums);
            if (failing) {
                failing = false;
                log.info("[{}] reading the group's lag again", name);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            topics.forEach(t -> behind.put(t, UNKNOWN));
            if (!failing) {
                failing = true;
                log.warn("[{}] cannot read the lag of group {}: {}", name, group, e.toString());
            }
        }
    }

    private static Map<TopicPartition, OffsetSpec> toEarliest(Map<TopicPartition, OffsetSpec> ends) {
        Map<TopicPartition, OffsetSpec> m = new HashMap<>();
        ends.keySet().forEach(tp -> m.put(tp, OffsetSpec.earliest()));
        return m;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(Duration.ofSeconds(2));
    }
}
