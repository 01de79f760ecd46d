package io.tern.pipeline.kafka;

import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;

/**
 * The one way a consumer moves a record it cannot apply to its topic's dead-letter topic
 * ({@link Topics#deadLetter}): same key and value, headers {@code tern.source} ({@code topic-partition@offset}) and
 * {@code tern.error} (why, at most 500 chars). acks=all and idempotent: a consumer commits past the record only once
 * the returned future completes.
 */
public final class DeadLetters implements AutoCloseable {
    public static final String SOURCE_HEADER = "tern.source";
    public static final String ERROR_HEADER = "tern.error";
    static final long TIMEOUT_MS = 30_000;
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

    private final KafkaProducer<String, byte[]> producer;

    public DeadLetters(String bootstrap, String clientName) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientName + "-dlq");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) TIMEOUT_MS);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** Completes once the dead-letter topic holds the record, or fails (Kafka unreachable: try again later). */
    public CompletableFuture<Void> send(ConsumerRecord<String, byte[]> r, Throwable why) {
        ProducerRecord<String, byte[]> dead = new ProducerRecord<>(Topics.deadLetter(r.topic()), r.key(), r.value());
        dead.headers().add(SOURCE_HEADER, (r.topic() + "-" + r.partition() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
        String reason = String.valueOf(why);
        dead.headers().add(ERROR_HEADER, reason.substring(0, Math.min(reason.length(), 500)).getBytes(StandardCharsets.UTF_8));
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            producer.send(dead, (meta, err) -> {
                if (err == null) {
                    done.complete(null);
                } else {
                    done.completeExceptionally(err);
                }
            });
        } catch (RuntimeException e) { // e.g. metadata not available within max.block.ms
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public void close() {
        producer.close(CLOSE_TIMEOUT);
    }
}
