package io.tern.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class KafkaBrokerIT {

    @Test
    void producesAndConsumesExactlyTheRecordsSent() throws Exception {
        KafkaBroker kafka = SharedInfra.kafka();
        assertSame(kafka, SharedInfra.kafka());
        String topic = "devstack-it-" + UUID.randomUUID();
        kafka.createTopics(topic);
        kafka.createTopics(topic); // idempotent

        Set<String> sent = new HashSet<>();
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                String value = "record-" + i;
                sent.add(value);
                acks.add(producer.send(new ProducerRecord<>(topic, "key-" + i, value)));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        }

        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "devstack-it-" + UUID.randomUUID());
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> received = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.size() < 100 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    received.add(r.value());
                }
            }
            // The log holds exactly 100 records, so nothing beyond them can still arrive.
            Set<TopicPartition> partitions = consumer.assignment();
            assertEquals(4, partitions.size(), "auto partition count from Options.defaults()");
            long total = consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
            assertEquals(100, total);
        }
        assertEquals(100, received.size());
        assertEquals(sent, new HashSet<>(received));
    }

    @Test
    void ownBrokerStartsWithOptionsAndClosesCleanly(@TempDir Path dir) throws Exception {
        Path logDir = dir.resolve("kafka");
        KafkaBroker kafka = KafkaBroker.start(KafkaBroker.Options.defaults().withLogDir(logDir).withNumPartitions(2));
        int port = kafka.port();
        try {
            assertEquals("127.0.0.1:" + port, kafka.bootstrapServers());
            kafka.createTopics("a", "b");
            Properties ap = new Properties();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            try (Admin admin = Admin.create(ap)) {
                Map<String, Integer> counts = new java.util.HashMap<>();
                admin.describeTopics(List.of("a", "b")).allTopicNames().get(30, TimeUnit.SECONDS)
                        .forEach((name, d) -> counts.put(name, d.partitions().size()));
                assertEquals(Map.of("a", 2, "b", 2), counts);
            }
        } finally {
            kafka.close();
        }
        assertFalse(Ports.accepting(port), "client port closed");
        assertTrue(Files.isRegularFile(logDir.resolve("meta.properties")), "a caller's log dir is kept");
        assertTrue(new String(Files.readAllBytes(logDir.resolve("meta.properties")), StandardCharsets.UTF_8)
                .contains("cluster.id"));
    }

    @Test
    void aBrokerRestartedOnItsLogDirAndPortsIsTheSameClusterWithItsTopics(@TempDir Path dir) throws Exception {
        KafkaBroker.Options o = KafkaBroker.Options.defaults().withLogDir(dir.resolve("kafka")).withPort(Ports.free())
                .withControllerPort(Ports.free()).withNumPartitions(1);
        KafkaBroker first = KafkaBroker.start(o);
        try {
            first.createTopics("kept");
        } finally {
            first.close();
        }
        KafkaBroker again = KafkaBroker.start(o);
        try {
            Properties ap = new Properties();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, again.bootstrapServers());
            try (Admin admin = Admin.create(ap)) {
                assertTrue(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains("kept"));
            }
        } finally {
            again.close();
        }
    }
}
