package io.tern.pipeline.buffer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskBodyJson;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Writes to Kafka what intake must not lose: pushes beyond the permit to {@code tern.buffer} (acks=all, idempotent
 * producer, bounded memory and in-flight requests), answered only once Kafka has them; and task bodies to
 * {@code tern.bodies} for the disk-KV backup, best effort (the task in Redis is the durable copy).
 *
 * <p>{@code KafkaProducer.send} blocks while it has no metadata or no buffer memory (Kafka down), so sends run on
 * one named thread behind a bounded queue, never on a caller's (event-loop) thread; a push not acknowledged within
 * {@code send-timeout} fails with {@link PushError#BUFFER_UNAVAILABLE}, and one still queued by then is not sent.
 */
public final class BufferProducer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BufferProducer.class);

    private final BufferConfig config;
    private final KafkaProducer<String, byte[]> producer;
    private final ThreadPoolExecutor sender;
    private final String prefix;
    private final Counter buffered;
    private final Counter refused;
    private final Counter bodies;
    private final Counter bodiesFailed;
    private volatile boolean failing;

    /** @param owner the role and instance, e.g. "logic l1": client id, thread name and log prefix */
    public BufferProducer(String kafkaBootstrap, BufferConfig config, String owner, MeterRegistry registry) {
        this.config = config;
        this.prefix = "[" + owner + " buffer]";
        long timeout = config.sendTimeout().toMillis();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, owner.replace(' ', '-') + "-buffer");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, config.maxInFlight());
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, config.bufferMemory());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // delivery >= linger + request: the whole send fits in send-timeout.
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout - 10);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(config.sendQueue()), r -> {
            Thread t = new Thread(r, owner.replace(' ', '-') + "-buffer-send");
            t.setDaemon(true);
            return t;
        });
        this.buffered = Counter.builder("tern.buffer.produced").tag("outcome", "written").register(registry);
        this.refused = Counter.builder("tern.buffer.produced").tag("outcome", "failed").register(registry);
        this.bodies = Counter.builder("tern.bodies.produced").tag("outcome", "written").register(registry);
        this.bodiesFailed = Counter.builder("tern.bodies.produced").tag("outcome", "failed").register(registry);
    }

    /**
     * Completes once Kafka acknowledged the record; fails with {@link PushError#BUFFER_UNAVAILABLE} (Retry-After)
     * when it did not within {@code send-timeout} or the send queue is full.
     */
    public CompletableFuture<Void> buffer(BufferedPush push) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.BUFFER, push.key(), BufferCodec.encode(push));
        send(record, written);
        return written.orTimeout(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS).handle((x, err) -> {
            if (err == null) {
                buffered.increment();
                if (failing) {
                    failing = false;
                    log.info("{} Kafka takes buffered pushes again", prefix);
                }
                return null;
            }
            refused.increment();
            Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            if (!failing) {
                failing = true;
                log.warn("{} Kafka did not take a push beyond the permit, refusing such pushes until it does: {}",
                        prefix, cause.toString());
            }
            throw new PushException(PushError.BUFFER_UNAVAILABLE, "the burst buffer (Kafka) did not take the push "
                    + "within " + config.sendTimeout().toMillis() + " ms; nothing was accepted", null,
                    config.retryAfter().toSeconds());
        });
    }

    /** Writes a task body to {@code tern.bodies} (key taskId); failures are logged and counted, never raised. */
    public void body(TaskBody body) {
        byte[] value = TaskBodyJson.write(body);
        CompletableFuture<Void> written = new CompletableFuture<>();
        send(new ProducerRecord<>(Topics.BODIES, Long.toString(body.taskId()), value), written);
        written.orTimeout(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS).whenComplete((x, err) -> {
            if (err == null) {
                bodies.increment();
            } else {
                bodiesFailed.increment();
                log.debug("{} task {} body not written to {}: {}", prefix, body.taskId(), Topics.BODIES, err.toString());
            }
        });
    }

    private void send(ProducerRecord<String, byte[]> record, CompletableFuture<Void> written) {
        try {
            sender.execute(() -> {
                if (written.isDone()) {
                    return; // timed out while queued: the caller was answered, nothing is written
                }
                try {
                    producer.send(record, (meta, err) -> {
                        if (err == null) {
                            written.complete(null);
                        } else {
                            written.completeExceptionally(err);
                        }
                    });
                } catch (RuntimeException e) { // metadata or memory wait timed out, closed
                    written.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            written.completeExceptionally(new IllegalStateException("buffer send queue full ("
                    + config.sendQueue() + ")"));
        }
    }

    /** Pushes waiting for the send thread (bounded by {@code send-queue}). */
    public int queued() {
        return sender.getQueue().size();
    }

    @Override
    public void close() {
        sender.shutdown();
        try {
            sender.awaitTermination(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
