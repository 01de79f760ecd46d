package io.tern.ratecontrol.scale;

import io.tern.devstack.SharedInfra;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The scaler's view of the buffer against a real Kafka: partitions, and lag from end and committed offsets. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BufferLoadIT {

    @Test
    void lagIsWhatTheGroupHasNotCommittedAndPartitionsAreTheTopics() throws Exception {
        String bootstrap = SharedInfra.kafka().bootstrapServers();
        String topic = "buffer-load-" + UUID.randomUUID();
        String group = "bypass-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
                for (int p = 0; p < 3; p++) {
                    for (int i = 0; i < 10; i++) {
                        producer.send(new ProducerRecord<>(topic, p, "k", "v")).get(30, TimeUnit.SECONDS);
                    }
                }
            }
            try (BufferLoad load = new BufferLoad(bootstrap, topic, group, Duration.ofSeconds(10), "it")) {
                assertEquals(3, load.partitions());
                assertEquals(30, load.lag(), "nothing committed yet: every record counts");
                // The group committed 4 on partition 0 and everything on partition 1.
                admin.alterConsumerGroupOffsets(group, Map.of(
                        new TopicPartition(topic, 0), new OffsetAndMetadata(4),
                        new TopicPartition(topic, 1), new OffsetAndMetadata(10))).all().get(30, TimeUnit.SECONDS);
                assertEquals(6 + 0 + 10, load.lag());
            }
        }
    }

    @Test
    void aMissingTopicIsAnErrorNotZeroLag() {
        try (BufferLoad load = new BufferLoad(SharedInfra.kafka().bootstrapServers(), "no-such-" + UUID.randomUUID(),
                "g", Duration.ofSeconds(5), "it")) {
            assertThrows(IllegalStateException.class, load::lag);
            assertThrows(IllegalStateException.class, load::partitions);
        }
    }
}
