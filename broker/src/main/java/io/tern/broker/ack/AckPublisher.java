package io.tern.broker.ack;

import io.micrometer.core.instrument.FunctionCounter;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.AckSink;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Device acks to Kafka ({@link Topics#ACKS}). Acks of broadcasts sent with COUNT_ACKS are only
 * counted ({@link BroadcastAckCounts}); every {@code countInterval} this publisher's thread
 * sends one count record per broadcast whose count moved, keyed by msgId. Other acks go one
 * record per device, keyed by regId: event loops only offer to a bounded queue; the same thread
 * drains it into the producer, which batches (linger) and may block on Kafka without stalling
 * any connection. When the queue is full the ack is dropped and counted: the message stays in
 * the device's queue and is delivered again on its next connection, so delivery stays at least
 * once. Close sends the final counts before the producer flushes.
 */
public final class AckPublisher implements AckSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AckPublisher.class);
    /** Most acks handed to the producer per wake-up. */
    static final int DRAIN_BATCH = 512;
    /** How long a send may wait for metadata or buffer space before the ack counts as failed. */
    static final Duration MAX_BLOCK = Duration.ofSeconds(5);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final String brokerId;
    private final BlockingQueue<AckRecord> queue;
    private final BroadcastAckCounts counts;
    private final long countIntervalNanos;
    private final BrokerMetrics metrics;
    private final Thread thread;
    private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
    private volatile boolean running = true;
    private Producer<String, byte[]> producer;

    AckPublisher(String brokerId, int capacity, BroadcastAckCounts counts, Duration countInterval, BrokerMetrics metrics) {
        this.brokerId = brokerId;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.counts = counts;
        this.countIntervalNanos = countInterval.toNanos();
        this.metrics = metrics;
        this.thread = new Thread(this::run, "tern-broker-" + brokerId + "-acks");
        this.thread.setDaemon(true);
        metrics.gauge("tern.broker.acks.queued", "Acks waiting for the Kafka producer", queue::size);
        metrics.gauge("tern.broker.acks.counting", "Broadcasts whose acks are being counted", counts::active);
        FunctionCounter.builder("tern.broker.acks.counted", counts, BroadcastAckCounts::counted)
                .description("Broadcast acks sent as counts instead of one record each").register(metrics.registry());
        FunctionCounter.builder("tern.broker.acks.counts.lost", counts, BroadcastAckCounts::lost)
                .description("Counted acks given up on because Kafka did not confirm their count")
                .register(metrics.registry());
    }

    /** Creates the producer and starts the draining thread. */
    public static AckPublisher start(String brokerId, String bootstrap, Duration linger, int capacity,
                                     BroadcastAckCounts counts, Duration countInterval, BrokerMetrics metrics) {
        AckPublisher p = new AckPublisher(brokerId, capacity, counts, countInterval, metrics);
        p.producer = new KafkaProducer<>(producerProperties(brokerId, bootstrap, linger));
        p.thread.start();
        return p;
    }

    static Properties producerProperties(String brokerId, String bootstrap, Duration linger) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "tern-broker-" + brokerId + "-acks");
        // Receipts drive task counters and app callbacks: an ack Kafka took must not be lost.
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, Long.toString(linger.toMillis()));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(MAX_BLOCK.toMillis()));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    @Override
    public boolean offer(AckRecord ack) {
        if (running && queue.offer(ack)) {
            return true;
        }
        metrics.ackDropped();
        return false;
    }

    @Override
    public boolean countBroadcast(long msgId, String regId) {
        return running && counts.count(msgId, regId);
    }

    /** Acks waiting for the producer. */
    public int queued() {
        return queue.size();
    }

    private void run() {
        List<AckRecord> batch = new ArrayList<>(DRAIN_BATCH);
        long nextCountFlush = System.nanoTime() + countIntervalNanos;
        while (running || !queue.isEmpty()) {
            try {
                // Bounded wait: close() is noticed within POLL even when counts flush rarely.
                long wait = Math.min(POLL_NANOS, nextCountFlush - System.nanoTime());
                AckRecord first = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, DRAIN_BATCH - 1);
                    for (AckRecord ack : batch) {
                        send(ack);
                    }
                }
                if (System.nanoTime() - nextCountFlush >= 0) {
                    counts.flush(this::sendCount);
                    nextCountFlush = System.nanoTime() + countIntervalNanos;
                }
            } catch (InterruptedException e) {
                break; // close() gave up waiting
            } finally {
                batch.clear();
            }
        }
    }

    private void send(AckRecord ack) {
        try {
            producer.send(new ProducerRecord<>(Topics.ACKS, ack.key(), ack.encode()), (md, err) -> {
                if (err != null) {
                    failed(err);
                }
            });
        } catch (KafkaException e) {
            failed(e); // e.g. metadata not available within max.block.ms
        }
    }

    /** @return false when the producer refused it at once; the count is offered again on the next flush */
    private boolean sendCount(BroadcastAckCounts.Pending count) {
        AckRecord r = count.record();
        try {
            producer.send(new ProducerRecord<>(Topics.ACKS, r.key(), r.encode()), (md, err) -> {
                if (err == null) {
                    count.confirmed();
                } else {
                    count.failed(); // the same devices go again: the consumer's filter counts each once
                    failed(err);
                }
            });
            return true;
        } catch (KafkaException e) {
            failed(e);
            return false;
        }
    }

    private void failed(Exception e) {
        metrics.ackFailed();
        long now = System.nanoTime();
        long last = lastWarn.get();
        if (now - last >= WARN_EVERY_NANOS && lastWarn.compareAndSet(last, now)) {
            log.warn("[broker {} acks] Kafka did not take an ack (more are counted in tern_broker_acks_failed_total): {}",
                    brokerId, e.toString());
        }
    }

    /**
     * Stops taking acks, hands what is queued and the final broadcast counts to the producer and
     * flushes it, all within {@code drain}. Call once the event loops are stopped: acks that
     * arrive later are refused.
     */
    public void close(Duration drain) {
        running = false;
        long deadline = System.nanoTime() + drain.toNanos();
        if (thread.isAlive()) {
            try {
                thread.join(Math.max(1, drain.toMillis()));
                if (thread.isAlive()) {
                    thread.interrupt();
                    thread.join(100);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int left = queue.size();
        if (left > 0) {
            log.warn("[broker {} acks] {} acks not handed to Kafka at shutdown; their messages will be redelivered", brokerId, left);
        }
        counts.retireAll();
        if (producer != null) {
            counts.flush(this::sendCount);
            producer.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        int unconfirmed = counts.unconfirmed();
        if (unconfirmed > 0) {
            log.warn("[broker {} acks] the final ack counts of {} broadcasts were not confirmed by Kafka at shutdown;"
                    + " their delivered counters stay short", brokerId, unconfirmed);
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }
}
