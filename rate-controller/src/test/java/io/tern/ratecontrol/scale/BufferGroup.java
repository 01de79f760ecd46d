package io.tern.ratecontrol.scale;

import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Moves the buffer's lag by hand, as no bypass consumer runs in these tests: records in, the group's offsets set. */
final class BufferGroup {
    private BufferGroup() {
    }

    /** Commits the bypass group at the end of every partition of the buffer (the group has no live members): lag 0. */
    static void commitToEnd(Admin admin) throws Exception {
        int partitions = admin.describeTopics(List.of(Topics.BUFFER)).allTopicNames().get(30, TimeUnit.SECONDS)
                .get(Topics.BUFFER).partitions().size();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(Topics.BUFFER, p), OffsetSpec.latest());
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e
                : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()) {
            offsets.put(e.getKey(), new OffsetAndMetadata(e.getValue().offset()));
        }
        admin.alterConsumerGroupOffsets(Topics.BYPASS_GROUP, offsets).all().get(30, TimeUnit.SECONDS);
    }

    /** Writes {@code records} records to the buffer, each acknowledged. */
    static void produce(String bootstrap, int records) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(Topics.BUFFER, "k" + i, "v")).get(30, TimeUnit.SECONDS);
            }
        }
    }
}
