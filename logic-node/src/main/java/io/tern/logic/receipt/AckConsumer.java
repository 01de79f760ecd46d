package io.tern.logic.receipt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.kafka.BatchConsumer;
import io.tern.pipeline.kafka.ConsumerPolicy;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.callback.ParkedReceipt;
import io.tern.store.receipt.AckRepository;
import io.tern.store.receipt.AppliedAck;
import io.tern.store.redis.StoreFailures;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The receipt pipeline's source: reads ack records from Kafka and records them. Device acks
 * (messages become delivered, task copies are counted once per device) are applied
 * {@code applyMax} at a time in one Redis call, which also parks each first receipt with a callback
 * URL in the callback outbox; the listener hears of those to post them. A full outbox applies
 * nothing: the consumer backs off and reads the batch again.
 * Counts of a broadcast's acks (brokers send them for broadcasts without a callback) add to the
 * task's delivered counter and have no receipt to report. At-least-once consumption is safe: a
 * replayed record is not counted again (a broadcast's device counts once however its acks come,
 * through the broadcast's counted set, or its ack filter when it has a callback: {@link AckRepository}).
 * Only broadcasts with a callback, stragglers past the broker's count window and catch-up copies
 * still ack per device.
 */
public final class AckConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AckConsumer.class);

    /** A batch waits this long for the store to be ready (under the batch timeout, 30 s) before it fails. */
    private static final Duration READY_WAIT = Duration.ofSeconds(20);
    private static final Duration READY_POLL = Duration.ofMillis(100);

    private final AckRepository acks;
    private final ReceiptListener listener;
    private final LongSupplier clock;
    private final int applyMax;
    private final Counter applied;
    private final Counter counts;
    private final Counter malformed;
    private final BatchConsumer consumer;
    private volatile BooleanSupplier storeReady = () -> true;

    /**
     * @param instanceId this node's static member name in the receipt group ({@link BatchConsumer})
     * @param applyMax   device acks per Redis call
     */
    public AckConsumer(String bootstrap, String group, String instanceId, int batchMax, int applyMax,
                       ConsumerPolicy policy, AckRepository acks, ReceiptListener listener, LongSupplier clock,
                       MeterRegistry registry, String owner) {
        if (applyMax < 1) {
            throw new IllegalArgumentException("applyMax must be >= 1: " + applyMax);
        }
        this.acks = acks;
        this.listener = listener;
        this.clock = clock;
        this.applyMax = applyMax;
        this.applied = Counter.builder("tern.receipts.acks").tag("outcome", "applied").register(registry);
        this.counts = Counter.builder("tern.receipts.acks").tag("outcome", "count").register(registry);
        this.malformed = Counter.builder("tern.receipts.acks").tag("outcome", "malformed").register(registry);
        Gauge.builder("tern.receipts.counted.devices", acks, AckRepository::countedDevicesHeld)
                .description("devices of broadcasts' counted sets held in memory (logic.receipt-counted-max)")
                .register(registry);
        this.consumer = new BatchConsumer(bootstrap, group, instanceId, Topics.ACKS, batchMax, Duration.ofSeconds(30),
                policy, this::apply, AckConsumer::transientFailure, registry, owner + "-ack-consumer");
    }

    /**
     * Applies no ack while {@code ready} is false (a Redis outage, and its reconciliation: the messages they ack may
     * not be in Redis yet): the batch fails as transient, so the acks stay in Kafka and are read again later.
     */
    public AckConsumer waitFor(BooleanSupplier ready) {
        this.storeReady = ready;
        return this;
    }

    public AckConsumer start() {
        consumer.start();
        return this;
    }

    /** True once the group gave this consumer its partitions (for /health and tests). */
    public boolean assigned() {
        return consumer.assigned();
    }

    /** False while the consumer is not consuming (backing off after a failure, stopped, unassigned too long). */
    public boolean consuming() {
        return consumer.consuming();
    }

    private CompletableFuture<?> apply(List<ConsumerRecord<String, byte[]>> records) {
        if (!storeReady.getAsBoolean()) {
            return whenStoreReady(System.nanoTime() + READY_WAIT.toNanos()).thenCompose(x -> apply(records));
        }
        List<CompletableFuture<?>> work = new ArrayList<>();
        List<AckRecord> deviceAcks = new ArrayList<>(Math.min(records.size(), applyMax));
        for (ConsumerRecord<String, byte[]> r : records) {
            AckRecord ack;
            try {
                ack = AckRecord.decode(r.value());
            } catch (IllegalArgumentException e) {
                malformed.increment();
                log.warn("[receipts] skipping malformed ack at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
                continue;
            }
            if (ack.isCount()) {
                work.add(acks.applyCount(ack).thenAccept(added -> counts.increment()));
                continue;
            }
            deviceAcks.add(ack);
            if (deviceAcks.size() == applyMax) {
                work.add(applyDeviceAcks(deviceAcks));
                deviceAcks = new ArrayList<>(applyMax);
            }
        }
        if (!deviceAcks.isEmpty()) {
            work.add(applyDeviceAcks(deviceAcks));
        }
        return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new));
    }

    /** Redis down or the callback outbox full: the acks are fine, read them again later. */
    private static boolean transientFailure(Throwable e) {
        return e instanceof StoreNotReady || StoreFailures.isUnavailable(e) || e instanceof CallbackOutbox.FullException
                || e.getCause() instanceof CallbackOutbox.FullException;
    }

    /** Completes once the acks are applied, their callback receipts parked with them (the batch may be committed). */
    private CompletableFuture<?> applyDeviceAcks(List<AckRecord> batch) {
        return acks.applyAll(batch, clock.getAsLong()).thenAccept(results -> {
            applied.increment(batch.size());
            List<ParkedReceipt> parked = new ArrayList<>();
            for (AppliedAck result : results) {
                if (result.parked() != null) {
                    parked.add(result.parked());
                }
            }
            if (!parked.isEmpty()) {
                listener.parked(parked);
            }
        });
    }

    /**
     * Completes once the store is ready again (checked every {@link #READY_POLL}), so acks resume within moments of
     * the reconciliation; fails as transient after {@link #READY_WAIT} (the consumer restarts, the acks are read again).
     */
    private CompletableFuture<Void> whenStoreReady(long deadlineNanos) {
        return CompletableFuture.runAsync(() -> { },
                CompletableFuture.delayedExecutor(READY_POLL.toMillis(), TimeUnit.MILLISECONDS)).thenCompose(x -> {
            if (storeReady.getAsBoolean()) {
                return CompletableFuture.completedFuture(null);
            }
            if (System.nanoTime() - deadlineNanos > 0) {
                return CompletableFuture.failedFuture(new StoreNotReady());
            }
            return whenStoreReady(deadlineNanos);
        });
    }

    /** Redis is away or not yet reconciled: the acks wait in Kafka. */
    private static final class StoreNotReady extends RuntimeException {
        StoreNotReady() {
            super("Redis in an outage or being reconciled: acks wait", null, false, false);
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
