package io.tern.ratecontrol.scale;

import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the scaler reads from Kafka: the partitions of {@code tern.buffer} and the backlog of the bypass consumers'
 * group on it (end offset minus committed offset per partition; a partition the group never committed counts
 * from its earliest offset). Blocking calls, each bounded by {@code timeout}: the scaler's own thread makes them.
 */
public final class BufferLoad implements AutoCloseable {
    private final Admin admin;
    private final String topic;
    private final String group;
    private final Duration timeout;

    public BufferLoad(String bootstrap, Duration timeout, String clientId) {
        this(bootstrap, Topics.BUFFER, Topics.BYPASS_GROUP, timeout, clientId);
    }

    public BufferLoad(String bootstrap, String topic, String group, Duration timeout, String clientId) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        this.admin = Admin.create(p);
        this.topic = topic;
        this.group = group;
        this.timeout = timeout;
    }

    /** Partitions of the buffer topic: the most consumers of the group that get work. */
    public int partitions() {
        return description().partitions().size();
    }

    /** Records in the buffer not yet committed by the group. */
    public long lag() {
        List<TopicPartition> parts = description().partitions().stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        Map<TopicPartition, OffsetAndMetadata> committed = await(admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata());
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        for (TopicPartition tp : parts) {
            latest.put(tp, OffsetSpec.latest());
            earliest.put(tp, OffsetSpec.earliest());
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = await(admin.listOffsets(latest).all());
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts = await(admin.listOffsets(earliest).all());
        long lag = 0;
        for (TopicPartition tp : parts) {
            OffsetAndMetadata c = committed.get(tp);
            long from = c != null ? c.offset() : starts.get(tp).offset();
            lag += Math.max(0, ends.get(tp).offset() - from);
        }
        return lag;
    }

    private TopicDescription description() {
        return await(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic);
    }

    private <T> T await(org.apache.kafka.common.KafkaFuture<T> f) {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted reading " + topic, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read " + topic + " / " + group + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer within " + timeout + " reading " + topic, e);
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}
