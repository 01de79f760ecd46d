package io.tern.broker.route;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.runtime.log.LogThrottle;
import io.tern.store.route.RouteChange;
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
 * Every route change of this broker's devices to the compacted {@link Topics#ROUTES} topic, keyed by appId:regId:
 * the copy of the routes that outlives a Redis outage (the disk-KV backup keeps it). Event loops only offer to a
 * bounded queue; one named thread hands the changes to the producer, in order, so one device's changes keep their
 * order (one key, one partition, an idempotent producer). A change the queue has no room for, or Kafka did not take
 * within its delivery timeout, is counted and logged, not retried: the next change of that device supersedes it, and
 * Redis (when it answers) holds the route anyway.
 */
public final class RoutePublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RoutePublisher.class);
    static final int DRAIN_BATCH = 512;
    /** How long a send may wait for metadata or buffer space, on this publisher's thread only. */
    static final Duration MAX_BLOCK = Duration.ofSeconds(5);
    static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(30);

    private final String brokerId;
    private final BlockingQueue<RouteChange> queue;
    private final Producer<String, byte[]> producer;
    private final Thread thread;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final LogThrottle warnings = new LogThrottle(Duration.ofSeconds(10));
    private volatile boolean running = true;

    RoutePublisher(String brokerId, int capacity, Producer<String, byte[]> producer, MeterRegistry registry) {
        this.brokerId = brokerId;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.producer = producer;
        this.thread = new Thread(this::run, "tern-broker-" + brokerId + "-routes");
        this.thread.setDaemon(true);
        Gauge.builder("tern.broker.routes.queued", queue, BlockingQueue::size)
                .description("Route changes waiting for the producer").register(registry);
        FunctionCounter.builder("tern.broker.routes.published", published, AtomicLong::get)
                .description("Route changes Kafka confirmed on " + Topics.ROUTES).register(registry);
        FunctionCounter.builder("tern.broker.routes.failed", failed, AtomicLong::get)
                .description("Route changes Kafka did not take (not retried)").register(registry);
        FunctionCounter.builder("tern.broker.routes.dropped", dropped, AtomicLong::get)
                .description("Route changes dropped because the queue was full").register(registry);
    }

    /** Creates the producer and starts the publishing thread. */
    public static RoutePublisher start(String brokerId, String bootstrap, int capacity, MeterRegistry registry) {
        RoutePublisher p = new RoutePublisher(brokerId, capacity, new KafkaProducer<>(properties(brokerId, bootstrap)),
                registry);
        p.startThread();
        return p;
    }

    void startThread() {
        thread.start();
    }

    static Properties properties(String brokerId, String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "tern-broker-" + brokerId + "-routes");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // In order per device even when a request is retried.
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(MAX_BLOCK.toMillis()));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(DELIVERY_TIMEOUT.toMillis()));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /** Never blocks: a change the queue has no room for is counted as dropped. */
    public void publish(RouteChange change) {
        if (!running || !queue.offer(change)) {
            dropped.incrementAndGet();
            warn("route change queue full or closed, dropped", null);
        }
    }

    public long published() {
        return published.get();
    }

    public long failed() {
        return failed.get();
    }

    public long dropped() {
        return dropped.get();
    }

    private void run() {
        List<RouteChange> batch = new ArrayList<>(DRAIN_BATCH);
        while (running || !queue.isEmpty()) {
            try {
                RouteChange first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, DRAIN_BATCH - 1);
                for (RouteChange c : batch) {
                    send(c);
                }
            } catch (InterruptedException e) {
                break; // close() gave up waiting
            } finally {
                batch.clear();
            }
        }
    }

    private void send(RouteChange c) {
        try {
            producer.send(new ProducerRecord<>(Topics.ROUTES, c.key(), c.encode()), (md, err) -> {
                if (err == null) {
                    published.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    warn("Kafka did not take a route change", err);
                }
            });
        } catch (KafkaException e) {
            failed.incrementAndGet();
            warn("Kafka refused a route change", e);
        }
    }

    private void warn(String what, Exception e) {
        if (warnings.allow()) {
            log.warn("[broker {} routes] {} (counted in tern_broker_routes_failed_total / _dropped_total; "
                    + "Redis still holds routes while it answers): {}", brokerId, what, e == null ? "" : e.toString());
        }
    }

    /** Hands what is queued to the producer and flushes it, within {@code drain}. */
    public void close(Duration drain) {
        running = false;
        long deadline = System.nanoTime() + drain.toNanos();
        try {
            if (thread.isAlive()) {
                thread.join(Math.max(1, drain.toMillis()));
            }
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!queue.isEmpty()) {
            log.warn("[broker {} routes] {} route changes not handed to Kafka at shutdown", brokerId, queue.size());
        }
        producer.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }
}
