package io.tern.logic.receipt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.store.receipt.AckRepository;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The receipt pipeline's source: reads device acks from Kafka, records them (messages become
 * delivered, task copies are counted once per device) and tells the listener of each first
 * receipt. Offsets are committed only after a batch's store updates finished, so a crash
 * replays acks rather than losing them; replays are harmless because a repeated ack is not
 * counted again.
 */
public final class AckConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AckConsumer.class);
    private static final Duration STORE_WAIT = Duration.ofSeconds(30);
    private static final Duration RETRY_PAUSE = Duration.ofSeconds(1);

    private final KafkaConsumer<String, byte[]> consumer;
    private final AckRepository acks;
    private final ReceiptListener listener;
    private final LongSupplier clock;
    private final Thread thread;
    private final Counter delivered;
    private final Counter malformed;
    private volatile boolean running = true;
    private volatile boolean assigned;

    public AckConsumer(String bootstrap, String group, int batchMax, AckRepository acks, ReceiptListener listener,
                       LongSupplier clock, MeterRegistry registry, String owner) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, batchMax);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, owner + "-acks");
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        this.acks = acks;
        this.listener = listener;
        this.clock = clock;
        this.delivered = Counter.builder("tern.receipts.acks").tag("outcome", "applied").register(registry);
        this.malformed = Counter.builder("tern.receipts.acks").tag("outcome", "malformed").register(registry);
        this.thread = new Thread(this::run, owner + "-ack-consumer");
        this.thread.setDaemon(true);
    }

    public AckConsumer start() {
        thread.start();
        return this;
    }

    /** True once the group gave this consumer its partitions (for /health and tests). */
    public boolean assigned() {
        return assigned;
    }

    private void run() {
        // Subscribe on the polling thread: KafkaConsumer is single-threaded.
        consumer.subscribe(List.of(Topics.ACKS), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                assigned = true;
            }
        });
        try {
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    continue;
                }
                List<CompletableFuture<?>> updates = new ArrayList<>(records.count());
                long now = clock.getAsLong();
                for (ConsumerRecord<String, byte[]> r : records) {
                    AckRecord ack;
                    try {
                        ack = AckRecord.decode(r.value());
                    } catch (IllegalArgumentException e) {
                        malformed.increment();
                        log.warn("[receipts] skipping malformed ack at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
                        continue;
                    }
                    AckRecord applied = ack;
                    updates.add(acks.apply(ack, now).thenAccept(result -> {
                        if (result.counted()) {
                            listener.receipt(applied, result);
                        }
                    }));
                }
                try {
                    CompletableFuture.allOf(updates.toArray(CompletableFuture[]::new))
                            .get(STORE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    delivered.increment(updates.size());
                    consumer.commitSync();
                } catch (ExecutionException | TimeoutException e) {
                    // Store unavailable: read the batch again from the last commit; acks are idempotent.
                    log.warn("[receipts] could not apply {} acks ({}); retrying", updates.size(), e.toString());
                    rewindToCommitted();
                    Thread.sleep(RETRY_PAUSE.toMillis());
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // close() woke us up
        } catch (Exception e) {
            log.error("[receipts] ack consumer stopped", e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void rewindToCommitted() {
        consumer.committed(consumer.assignment()).forEach((tp, offset) -> {
            if (offset != null) {
                consumer.seek(tp, offset);
            } else {
                consumer.seekToBeginning(List.of(tp));
            }
        });
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
