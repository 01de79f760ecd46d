package io.tern.pipeline.buffer;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The burst buffer's backlog: records in {@code tern.buffer} the bypass consumers' group ({@code tern-bypass}) has
 * not committed, per partition and in total, read through the Kafka Admin API every {@code refresh} on its own
 * thread and kept in memory, so intake (429 {@code buffer_full} beyond a bound), the controller and the scaler read
 * it without a round trip. A partition the group never committed counts from its earliest offset. A failed read
 * keeps the last figures; {@link #fresh()} says whether they are recent and {@link #error()} why they are not.
 */
public final class BufferBacklog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BufferBacklog.class);

    /** The backlog as last read: total records, per partition, and when (epoch ms; 0 = never read). */
    public record Snapshot(long total, Map<Integer, Long> byPartition, long readAtMillis) {
        public static final Snapshot UNKNOWN = new Snapshot(-1, Map.of(), 0);

        public Snapshot {
            byPartition = Map.copyOf(byPartition);
        }

        public int partitions() {
            return byPartition.size();
        }

        public boolean known() {
            return readAtMillis > 0;
        }
    }

    private final Admin admin;
    private final Duration refresh;
    private final Duration timeout;
    private final String topic;
    private final String group;
    private final String prefix;
    private final ScheduledExecutorService thread;
    private volatile Snapshot last = Snapshot.UNKNOWN;
    private volatile long lastReadNanos;
    private volatile String error;
    private boolean failing; // on the backlog thread only

    /** The backlog of {@link Topics#BYPASS_GROUP} on {@link Topics#BUFFER}. */
    public BufferBacklog(String kafkaBootstrap, Duration refresh, String owner) {
        this(kafkaBootstrap, Topics.BUFFER, Topics.BYPASS_GROUP, refresh, owner);
    }

    public BufferBacklog(String kafkaBootstrap, String topic, String group, Duration refresh, String owner) {
        this.refresh = refresh;
        this.timeout = refresh.multipliedBy(3).compareTo(Duration.ofSeconds(2)) < 0 ? Duration.ofSeconds(2)
                : refresh.multipliedBy(3);
        this.topic = topic;
        this.group = group;
        this.prefix = "[" + owner + " backlog]";
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, owner.replace(' ', '-') + "-backlog");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        this.admin = Admin.create(p);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, owner.replace(' ', '-') + "-backlog");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts reading every {@code refresh}; registers {@code tern.buffer.backlog} (records, -1 until first read). */
    public BufferBacklog start(MeterRegistry registry) {
        Gauge.builder("tern.buffer.backlog", this, b -> b.last.total())
                .description("records in the burst buffer not yet drained (-1: not read yet)").register(registry);
        thread.scheduleWithFixedDelay(this::read, 0, refresh.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    public Snapshot snapshot() {
        return last;
    }

    /** Total records not drained as last read; -1 before the first read. */
    public long total() {
        return last.total();
    }

    /** True while the last successful read is younger than three refreshes plus a timeout. */
    public boolean fresh() {
        long at = lastReadNanos;
        return at != 0 && System.nanoTime() - at <= refresh.multipliedBy(3).plus(timeout).toNanos();
    }

    /** Why the last read failed (the exception as text), or null when it worked or none finished yet. */
    public String error() {
        return error;
    }

    private void read() {
        try {
            last = readNow();
            lastReadNanos = System.nanoTime();
            error = null;
            if (failing) {
                failing = false;
                log.info("{} reading the buffer backlog works again: {} records", prefix, last.total());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            error = cause.toString();
            if (!failing) {
                failing = true;
                log.warn("{} reading the buffer backlog failed, keeping {} records: {}", prefix, last.total(),
                        error);
            }
        }
    }

    private Snapshot readNow() throws Exception {
        long ms = timeout.toMillis();
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(ms, TimeUnit.MILLISECONDS)
                .get(topic);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        d.partitions().forEach(p -> {
            latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
            earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
        });
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(ms, TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                .get(ms, TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all()
                .get(ms, TimeUnit.MILLISECONDS);
        Map<Integer, Long> byPartition = new HashMap<>();
        long total = 0;
        for (TopicPartition tp : latest.keySet()) {
            OffsetAndMetadata c = committed.get(tp);
            long from = Math.max(c == null ? 0 : c.offset(), starts.get(tp).offset());
            long lag = Math.max(0, ends.get(tp).offset() - from);
            byPartition.put(tp.partition(), lag);
            total += lag;
        }
        return new Snapshot(total, byPartition, System.currentTimeMillis());
    }

    @Override
    public void close() {
        thread.shutdownNow();
        // No grace: an in-flight read is of no use any more, and against an unreachable Kafka it would hold the
        // role's shutdown until its timeout.
        admin.close(Duration.ZERO);
    }
}
