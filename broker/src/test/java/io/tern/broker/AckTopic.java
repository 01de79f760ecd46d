package io.tern.broker;

import io.tern.devstack.SharedInfra;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Reads the shared Kafka's ack topic from the beginning (no consumer group) for one app's ack records. */
final class AckTopic {
    private AckTopic() {
    }

    /**
     * Every ack record of {@code appId} (device acks and counts), read until {@code enough} holds
     * for them, or until {@code wait} has passed.
     */
    static List<AckRecord> acksOf(String appId, Predicate<List<AckRecord>> enough, Duration wait) {
        List<AckRecord> acks = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = fromTheBeginning()) {
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline && !enough.test(acks)) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    AckRecord ack = AckRecord.decode(r.value());
                    if (ack.appId().equals(appId)) {
                        assertEquals(ack.key(), r.key(), "device acks are keyed by regId, counts by msgId");
                        acks.add(ack);
                    }
                }
            }
        }
        return acks;
    }

    private static KafkaConsumer<String, byte[]> fromTheBeginning() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p);
        List<TopicPartition> partitions = consumer.partitionsFor(Topics.ACKS, Duration.ofSeconds(10)).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    static AckRecord firstAckOf(String appId, Duration wait) {
        try (KafkaConsumer<String, byte[]> consumer = fromTheBeginning()) {
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    AckRecord ack = AckRecord.decode(r.value());
                    if (ack.appId().equals(appId)) {
                        assertEquals(ack.regId(), r.key(), "record key is the regId");
                        return ack;
                    }
                }
            }
        }
        throw new AssertionError("no ack for " + appId + " on " + Topics.ACKS + " within " + wait);
    }
}
