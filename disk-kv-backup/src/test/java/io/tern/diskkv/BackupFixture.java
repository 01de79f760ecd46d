package io.tern.diskkv;

import io.tern.devstack.SharedInfra;
import io.tern.diskkv.config.BackupConfig;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.config.Settings;
import io.tern.store.task.TaskBody;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Topics, producers and offsets of the backup's integration tests, on the shared Kafka. */
final class BackupFixture implements AutoCloseable {
    static final Duration AWAIT = Duration.ofSeconds(60);
    private static final AtomicInteger SEQ = new AtomicInteger();

    final String bodies;
    final String routes;
    final String group;
    final KafkaProducer<String, byte[]> producer;
    final Admin admin;

    /** Fresh topics and group of their own, so tests share Kafka without seeing each other's records. */
    BackupFixture(String name) {
        String n = name + "-" + System.currentTimeMillis() + "-" + SEQ.incrementAndGet();
        this.bodies = "it.bodies." + n;
        this.routes = "it.routes." + n;
        this.group = "it-disk-kv-" + n;
        SharedInfra.kafka().createTopics(List.of(bodies, routes, bodies + ".dlq", routes + ".dlq"), List.of(routes));
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        this.admin = Admin.create(a);
    }

    static String bootstrap() {
        return SharedInfra.kafka().bootstrapServers();
    }

    /** The backup's settings for this fixture's topics and group; {@code more} on top. */
    Map<String, String> settings(String diskKvUri, Map<String, String> more) {
        Map<String, String> s = new HashMap<>();
        s.put("backup.port", "0");
        s.put("backup.kafka-bootstrap", bootstrap());
        s.put("backup.disk-kv-uri", diskKvUri);
        s.put("backup.bodies-topic", bodies);
        s.put("backup.routes-topic", routes);
        s.put("backup.group", group);
        s.put("backup.lag-refresh", "200ms");
        s.put("backup.consumer.backoff-initial", "200ms");
        s.put("backup.consumer.backoff-max", "1s");
        s.putAll(more);
        return s;
    }

    BackupConfig config(String diskKvUri, Map<String, String> more) {
        return BackupConfig.from(Settings.of(settings(diskKvUri, more)));
    }

    static TaskBody body(long taskId, long now) {
        return new TaskBody(taskId, "app-backup", PayloadKind.DATA, "{\"n\":" + taskId + "}", now,
                now + Duration.ofHours(1).toMillis(), null, null, 0);
    }

    /** Sends and waits for Kafka's acknowledgement. */
    void send(String topic, String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Offsets the group committed on {@code topic}, summed over partitions. */
    long committed(String topic) {
        try {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            return m.entrySet().stream().filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset()).sum();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** End offsets of {@code topic}, summed over partitions. */
    long end(String topic) {
        try {
            Map<TopicPartition, OffsetSpec> spec = new HashMap<>();
            admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions()
                    .forEach(p -> spec.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            return admin.listOffsets(spec).all().get(30, TimeUnit.SECONDS).values().stream()
                    .mapToLong(r -> r.offset()).sum();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(5));
    }
}
