package io.tern.logic.receipt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.logic.kafka.BatchConsumer;
import io.tern.store.receipt.AckRepository;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongSupplier;

/**
 * The receipt pipeline's source: reads device acks from Kafka, records them (messages become
 * delivered, task copies are counted once per device) and tells the listener of each first
 * receipt. A replayed ack is not counted again, so at-least-once consumption is safe.
 */
public final class AckConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AckConsumer.class);

    private final AckRepository acks;
    private final ReceiptListener listener;
    private final LongSupplier clock;
    private final Counter applied;
    private final Counter malformed;
    private final BatchConsumer consumer;
    private final ExecutorService listenerThread;

    public AckConsumer(String bootstrap, String group, int batchMax, AckRepository acks, ReceiptListener listener,
                       LongSupplier clock, MeterRegistry registry, String owner) {
        this.acks = acks;
        this.listener = listener;
        this.clock = clock;
        this.applied = Counter.builder("tern.receipts.acks").tag("outcome", "applied").register(registry);
        this.malformed = Counter.builder("tern.receipts.acks").tag("outcome", "malformed").register(registry);
        this.listenerThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, owner + "-receipt-listener");
            t.setDaemon(true);
            return t;
        });
        this.consumer = new BatchConsumer(bootstrap, group, Topics.ACKS, batchMax, Duration.ofSeconds(30), this::apply,
                owner + "-ack-consumer");
    }

    public AckConsumer start() {
        consumer.start();
        return this;
    }

    /** True once the group gave this consumer its partitions (for /health and tests). */
    public boolean assigned() {
        return consumer.assigned();
    }

    private CompletableFuture<?> apply(ConsumerRecord<String, byte[]> r) {
        AckRecord ack;
        try {
            ack = AckRecord.decode(r.value());
        } catch (IllegalArgumentException e) {
            malformed.increment();
            log.warn("[receipts] skipping malformed ack at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            return CompletableFuture.completedFuture(null);
        }
        // The listener may block (a full callback queue): never on a Lettuce thread, on our own.
        return acks.apply(ack, clock.getAsLong()).thenAcceptAsync(result -> {
            applied.increment();
            if (result.counted()) {
                listener.receipt(ack, result);
            }
        }, listenerThread);
    }

    @Override
    public void close() {
        consumer.close();
        listenerThread.shutdownNow();
    }
}
