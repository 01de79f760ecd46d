package io.tern.logic.kafka;

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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * At-least-once consumption on its own thread: each polled batch is handed to the handler (per
 * record, or the whole batch at once), whose futures must all complete before the offsets are
 * committed. A failed or slow batch is read again from the last commit after a pause, so
 * handlers must be idempotent.
 */
public final class BatchConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatchConsumer.class);
    private static final Duration RETRY_PAUSE = Duration.ofSeconds(1);

    private final KafkaConsumer<String, byte[]> consumer;
    private final String topic;
    private final Function<List<ConsumerRecord<String, byte[]>>, CompletableFuture<?>> handler;
    private final Duration batchTimeout;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean assigned;

    /**
     * @param handler gets each polled batch (at most {@code batchMax} records) at once, e.g. to
     *                write them in one round trip; {@link #eachRecord} adapts a per-record handler
     */
    public BatchConsumer(String bootstrap, String group, String topic, int batchMax, Duration batchTimeout,
                         Function<List<ConsumerRecord<String, byte[]>>, CompletableFuture<?>> handler,
                         String threadName) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, batchMax);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, threadName);
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.handler = handler;
        this.batchTimeout = batchTimeout;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    /** A batch handler that calls {@code handler} for each record and completes when all have. */
    public static Function<List<ConsumerRecord<String, byte[]>>, CompletableFuture<?>> eachRecord(
            Function<ConsumerRecord<String, byte[]>, CompletableFuture<?>> handler) {
        return records -> {
            List<CompletableFuture<?>> work = new ArrayList<>(records.size());
            for (ConsumerRecord<String, byte[]> r : records) {
                work.add(handler.apply(r));
            }
            return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new));
        };
    }

    public BatchConsumer start() {
        thread.start();
        return this;
    }

    /** True once the group gave this consumer its partitions. */
    public boolean assigned() {
        return assigned;
    }

    private void run() {
        // Subscribe on the polling thread: KafkaConsumer is single-threaded.
        consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
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
                List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>(records.count());
                records.forEach(batch::add);
                try {
                    handler.apply(batch).get(batchTimeout.toMillis(), TimeUnit.MILLISECONDS);
                    consumer.commitSync();
                } catch (ExecutionException | TimeoutException e) {
                    log.warn("[{}] could not apply {} records ({}); reading them again", thread.getName(),
                            records.count(), e.toString());
                    rewindToCommitted();
                    Thread.sleep(RETRY_PAUSE.toMillis());
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // close() woke us up
        } catch (Exception e) {
            log.error("[{}] consumer stopped", thread.getName(), e);
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
