package io.tern.diskkv.lag;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How far the disk KV trails Kafka: per topic, the time from a record's timestamp (set by its producer, e.g. the
 * logic node creating the task) to the moment its write to the disk KV succeeded. A histogram on /metrics
 * ({@code tern_backup_lag_seconds_bucket{topic}}: Prometheus computes p99 from the buckets), and p50/p99 kept in
 * process for {@link Timer#takeSnapshot()}; the target is p99 ≤ 1 s.
 */
public final class BackupLag {
    private final MeterRegistry registry;
    private final LongSupplier nowMillis;
    private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();

    public BackupLag(MeterRegistry registry, LongSupplier nowMillis) {
        this.registry = registry;
        this.nowMillis = nowMillis;
    }

    /** Call once {@code r}'s write succeeded. */
    public void written(ConsumerRecord<?, ?> r) {
        long lag = Math.max(0, nowMillis.getAsLong() - r.timestamp());
        timer(r.topic()).record(lag, TimeUnit.MILLISECONDS);
    }

    public Timer timer(String topic) {
        return timers.computeIfAbsent(topic, t -> Timer.builder("tern.backup.lag").tag("topic", t)
                .description("record timestamp to its write in the disk KV")
                .publishPercentiles(0.5, 0.99)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry));
    }
}
