package io.tern.broker.ack;

import io.micrometer.core.instrument.FunctionCounter;
import io.tern.runtime.log.LogThrottle;
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
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Device acks to Kafka ({@link Topics#ACKS}). Acks of broadcasts sent with COUNT_ACKS are only
 * counted ({@link BroadcastAckCounts}); every {@code countInterval} this publisher's thread
 * sends one count record per broadcast whose count moved, keyed by msgId. Other acks go one
 * record per device, keyed by regId: event loops only offer to a queue; the same thread drains
 * it into the producer, which batches (linger) and may block on Kafka without stalling any
 * connection.
 *
 * <p>Nothing is dropped while Kafka is down or slow. An ack holds one of {@code capacity} places
 * from {@link #offer} until Kafka confirms it; one Kafka did not take (its delivery timeout
 * passed, the producer refused it) is sent again after {@code retryBackoff}. When every place is
 * taken, {@link #offer} says no and the connection stops reading ({@link AckSink#whenRoom}) until
 * half the places are free again. Close sends the final counts before the producer flushes.
 */
public final class AckPublisher implements AckSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AckPublisher.class);
    /** Most acks handed to the producer per wake-up. */
    static final int DRAIN_BATCH = 512;
    /** How long a send may wait for metadata or buffer space before the ack counts as failed. */
    static final Duration MAX_BLOCK = Duration.ofSeconds(5);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String brokerId;
    private final int capacity;
    /** One permit per ack between {@link #offer} and Kafka's confirmation: the bound of everything held. */
    private final Semaphore room;
    private final BlockingQueue<AckRecord> queue = new LinkedBlockingQueue<>();
    /** Acks Kafka did not take, sent again once {@code retryAtNanos} has passed. */
    private final Queue<AckRecord> retry = new ConcurrentLinkedQueue<>();
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();
    private final long retryBackoffNanos;
    private volatile long retryAtNanos;
    private final BroadcastAckCounts counts;
    private final long countIntervalNanos;
    private final BrokerMetrics metrics;
    private final Thread thread;
    private final LogThrottle warnings = new LogThrottle(Duration.ofSeconds(10));
    private volatile boolean running = true;
    private Producer<String, byte[]> producer;

    AckPublisher(String brokerId, int capacity, BroadcastAckCounts counts, Duration countInterval, Duration retryBackoff,
                 BrokerMetrics metrics) {
        this.brokerId = brokerId;
        this.capacity = capacity;
        this.room = new Semaphore(capacity);
        this.retryBackoffNanos = retryBackoff.toNanos();
        this.counts = counts;
        this.countIntervalNanos = countInterval.toNanos();
        this.metrics = metrics;
        this.thread = new Thread(this::run, "tern-broker-" + brokerId + "-acks");
        this.thread.setDaemon(true);
        metrics.gauge("tern.broker.acks.queued", "Acks not yet confirmed by Kafka (queued, in the producer, to retry)",
                this::held);
        metrics.gauge("tern.broker.acks.waiting", "Connections not read until the ack queue has room", waiting::size);
        metrics.gauge("tern.broker.acks.counting", "Broadcasts whose acks are being counted", counts::active);
        FunctionCounter.builder("tern.broker.acks.counted", counts, BroadcastAckCounts::counted)
                .description("Broadcast acks sent as counts instead of one record each").register(metrics.registry());
        FunctionCounter.builder("tern.broker.acks.counts.lost", counts, BroadcastAckCounts::lost)
                .description("Counted acks given up on because Kafka did not confirm their count")
                .register(metrics.registry());
    }

    /** Creates the producer and starts the draining thread. */
    public static AckPublisher start(String brokerId, String bootstrap, Duration linger, int capacity,
                                     BroadcastAckCounts counts, Duration countInterval, Duration deliveryTimeout,
                                     Duration retryBackoff, BrokerMetrics metrics) {
        AckPublisher p = new AckPublisher(brokerId, capacity, counts, countInterval, retryBackoff, metrics);
        p.producer = new KafkaProducer<>(producerProperties(brokerId, bootstrap, linger, deliveryTimeout));
        p.thread.start();
        return p;
    }

    static Properties producerProperties(String brokerId, String bootstrap, Duration linger, Duration deliveryTimeout) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "tern-broker-" + brokerId + "-acks");
        // Receipts drive task counters and app callbacks: an ack Kafka took must not be lost.
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, Long.toString(linger.toMillis()));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(MAX_BLOCK.toMillis()));
        // Bounded: an ack Kafka did not take in this time comes back to us and is sent again.
        long delivery = deliveryTimeout.toMillis();
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(delivery));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(Math.min(30_000, Math.max(1, delivery - linger.toMillis() - 1))));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /**
     * @return false when every place is taken (or the publisher is closed): keep the ack, stop reading the
     *         connection and offer it again from {@link #whenRoom}
     */
    @Override
    public boolean offer(AckRecord ack) {
        if (running && room.tryAcquire()) {
            queue.add(ack);
            return true;
        }
        return false;
    }

    @Override
    public void whenRoom(Runnable resume) {
        waiting.add(resume);
        if (roomToResume()) {
            wakeWaiting(); // room came back between the refused offer and now
        }
    }

    /** Acks held until Kafka confirms them. */
    public int held() {
        return capacity - room.availablePermits();
    }

    private boolean roomToResume() {
        return room.availablePermits() >= Math.max(1, capacity / 2);
    }

    private void wakeWaiting() {
        Runnable r;
        while ((r = waiting.poll()) != null) {
            r.run();
        }
    }

    /** Kafka confirmed an ack: its place is free; waiting connections resume once half the places are. */
    private void confirmed() {
        room.release();
        if (!waiting.isEmpty() && roomToResume()) {
            wakeWaiting();
        }
    }

    @Override
    public boolean countBroadcast(long msgId, long deviceHash) {
        return running && counts.count(msgId, deviceHash);
    }

    /** Acks waiting for the producer (not yet handed to it). */
    public int queued() {
        return queue.size() + retry.size();
    }

    private void run() {
        List<AckRecord> batch = new ArrayList<>(DRAIN_BATCH);
        long nextCountFlush = System.nanoTime() + countIntervalNanos;
        while (running || !queue.isEmpty() || (!retry.isEmpty() && !Thread.currentThread().isInterrupted())) {
            try {
                // Bounded wait: close() is noticed within POLL even when counts flush rarely.
                long wait = Math.min(POLL_NANOS, nextCountFlush - System.nanoTime());
                if (!retry.isEmpty() && System.nanoTime() - retryAtNanos >= 0) {
                    AckRecord again;
                    while (batch.size() < DRAIN_BATCH && (again = retry.poll()) != null) {
                        batch.add(again);
                    }
                    for (AckRecord ack : batch) {
                        send(ack);
                    }
                    batch.clear();
                }
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
                if (err == null) {
                    confirmed();
                } else {
                    again(ack, err);
                }
            });
        } catch (KafkaException e) {
            again(ack, e); // e.g. metadata not available within max.block.ms
        }
    }

    /** Kafka did not take it: it keeps its place and goes again after the backoff. */
    private void again(AckRecord ack, Exception e) {
        failed(e);
        retryAtNanos = System.nanoTime() + retryBackoffNanos;
        retry.add(ack);
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
        if (warnings.allow()) {
            log.warn("[broker {} acks] Kafka did not take an ack; it is sent again (attempts are counted in"
                    + " tern_broker_acks_failed_total, {} acks held): {}", brokerId, held(), e.toString());
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
        int left = queue.size() + retry.size();
        if (left > 0) {
            log.warn("[broker {} acks] {} acks not handed to Kafka at shutdown; their messages will be redelivered", brokerId, left);
            for (int i = 0; i < left; i++) {
                metrics.ackDropped();
            }
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
