package io.tern.diskkv.write;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.diskkv.lag.BackupLag;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.task.TaskBody;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Writes a batch of {@code tern.bodies} records (TaskBody JSON keyed by taskId) to the disk KV, each until its
 * task expires, all at once (distinct keys, or the same body twice: order does not matter). The value is kept as
 * it came, so a reader decodes it as the logic node wrote it. A body whose task already expired is skipped; one
 * that is not a TaskBody fails the batch, and the consumer dead-letters it once it failed every attempt.
 */
public final class BodyBackup {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false); // newer writers

    private final DiskKv diskKv;
    private final BackupLag lag;
    private final LongSupplier nowMillis;
    private final Counter written;
    private final Counter expired;

    public BodyBackup(DiskKv diskKv, BackupLag lag, LongSupplier nowMillis, MeterRegistry registry) {
        this.diskKv = diskKv;
        this.lag = lag;
        this.nowMillis = nowMillis;
        this.written = Counter.builder("tern.backup.bodies").tag("outcome", "written")
                .description("task bodies handled").register(registry);
        this.expired = Counter.builder("tern.backup.bodies").tag("outcome", "expired")
                .description("task bodies handled").register(registry);
    }

    public CompletableFuture<Void> write(List<ConsumerRecord<String, byte[]>> batch) {
        List<CompletableFuture<Void>> work = new ArrayList<>(batch.size());
        for (ConsumerRecord<String, byte[]> r : batch) {
            work.add(write(r));
        }
        return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> write(ConsumerRecord<String, byte[]> r) {
        TaskBody body;
        try {
            body = decode(r.value());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        long now = nowMillis.getAsLong();
        if (body.expiresAtMillis() <= now) {
            expired.increment();
            return CompletableFuture.completedFuture(null);
        }
        return diskKv.putBody(body.taskId(), new String(r.value(), StandardCharsets.UTF_8), body.expiresAtMillis(), now)
                .thenRun(() -> {
                    written.increment();
                    lag.written(r);
                });
    }

    /** @throws IllegalArgumentException when {@code value} is not a TaskBody with a task id */
    static TaskBody decode(byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("no task body (null value)");
        }
        TaskBody body;
        try {
            body = JSON.readValue(value, TaskBody.class);
        } catch (IOException e) {
            // No cause: Jackson's parse errors are IOExceptions, which StoreFailures reads as "the store is
            // unreachable", and a bad record must be dead-lettered, not retried for ever.
            throw new IllegalArgumentException("not a task body: " + e.getMessage());
        }
        if (body == null || body.taskId() <= 0) {
            throw new IllegalArgumentException("task body without a task id");
        }
        return body;
    }
}
