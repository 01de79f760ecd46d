package io.tern.bypass.drain;

import io.tern.devstack.SharedInfra;
import io.tern.pipeline.buffer.BufferCodec;
import io.tern.pipeline.buffer.BufferedPush;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/** Buffer topics, records and group offsets on the shared real Kafka, for the drain's tests. */
public final class BufferFixture implements AutoCloseable {
    public static final Duration AWAIT = Duration.ofSeconds(60);

    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;

    public BufferFixture() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        admin = Admin.create(a);
    }

    public static String bootstrap() {
        return SharedInfra.kafka().bootstrapServers();
    }

    /** A fresh buffer topic (broker default partitions) and its dead-letter topic. */
    public static String newTopic() {
        String topic = "it-buffer-" + UUID.randomUUID();
        SharedInfra.kafka().createTopics(topic, Topics.deadLetter(topic));
        return topic;
    }

    public static BufferedPush single(long msgId, String regId) {
        return new BufferedPush(BufferedPush.Kind.SINGLE, "app1", msgId, regId, PayloadKind.NOTIFICATION,
                "{\"title\":\"m" + msgId + "\"}", 1_000, Long.MAX_VALUE / 2, null, null, null, 0, null, 1);
    }

    /** Publishes to {@code partition} (null: by key) and waits for the acks. */
    public void publish(String topic, Integer partition, BufferedPush push) {
        send(topic, partition, push.key(), BufferCodec.encode(push));
    }

    public void send(String topic, Integer partition, String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, partition, key, value)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The group's committed offset of one partition, -1 when none. */
    public long committed(String group, String topic, int partition) {
        try {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            OffsetAndMetadata o = m.get(new TopicPartition(topic, partition));
            return o == null ? -1 : o.offset();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads {@code expected} records of a topic from the start. */
    public static List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            await().atMost(AWAIT).until(() -> {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
                return out.size() >= expected;
            });
        }
        return out;
    }

    @Override
    public void close() {
        producer.close();
        admin.close();
    }
}
