package io.tern.broker;

import io.tern.devstack.KafkaBroker;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Kafka stopped and started again (same port, same log dir) under a broker whose devices keep acking: acks wait,
 * the connections stop being read once the ack queue is full, and every ack reaches Kafka after it returns.
 */
class KafkaOutageIT {
    private static final Duration AWAIT = Duration.ofSeconds(90);
    private static final AtomicLong ids = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));

    @Test
    void acksSentWhileKafkaIsDownAreHeldWithBackpressureAndPublishedOnceItIsBack() {
        int capacity = 4;
        try (KafkaBroker kafka = KafkaBroker.start(KafkaBroker.Options.defaults())) {
            kafka.createTopics(Topics.ACKS);
            Broker broker = Broker.start(TestBrokers.config(Map.of(
                    "broker.kafka-bootstrap", kafka.bootstrapServers(),
                    "broker.ack-queue-capacity", Integer.toString(capacity),
                    "broker.ack-delivery-timeout", "2s",
                    "broker.ack-retry-backoff", "200ms")));
            String app = TestBrokers.uniqueApp();
            try (FrameClient logic = FrameClient.internal(broker.internalAddress());
                 FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
                device.connect(app, "d1", TestBrokers.token(app, "d1"));
                List<Long> sent = new ArrayList<>();
                long before = pushTo(logic, device, app, "d1");
                device.send(new Frame.Ack(before));
                sent.add(before);
                await().atMost(AWAIT).until(() -> ackedMsgIds(kafka, app).contains(before));

                kafka.stop();
                int duringOutage = capacity * 3; // more than the queue holds: backpressure, not drops
                for (int i = 0; i < duringOutage; i++) {
                    long msgId = pushTo(logic, device, app, "d1");
                    device.send(new Frame.Ack(msgId));
                    sent.add(msgId);
                }
                await().atMost(AWAIT).until(() -> counter(broker, "tern.broker.acks.backpressure") >= 1);
                // Down for longer than the producer's delivery timeout: the acks came back and are held for again.
                await().atMost(AWAIT).until(() -> counter(broker, "tern.broker.acks.failed") >= 1);
                assertEquals(0.0, counter(broker, "tern.broker.acks.dropped"));

                kafka.restart();
                await().atMost(AWAIT).pollInterval(Duration.ofMillis(500))
                        .until(() -> ackedMsgIds(kafka, app).containsAll(sent));
                assertEquals(0.0, counter(broker, "tern.broker.acks.dropped"), "nothing dropped");
                // Reading resumed: the connection still works.
                long after = pushTo(logic, device, app, "d1");
                device.send(new Frame.Ack(after));
                await().atMost(AWAIT).until(() -> ackedMsgIds(kafka, app).contains(after));
            } finally {
                broker.close();
            }
        }
    }

    private static long pushTo(FrameClient logic, FrameClient device, String app, String reg) {
        Frame.Push p = new Frame.Push(ids.incrementAndGet(), System.currentTimeMillis() + 60_000, PayloadKind.DATA,
                "{}".getBytes(StandardCharsets.UTF_8), 0);
        long id = ids.incrementAndGet();
        logic.send(new Frame.PushCommand(id, app, reg, p));
        assertEquals(new Frame.PushResult(id, PushOutcome.WRITTEN), logic.expect(Frame.PushResult.class));
        assertEquals(p, device.expect(Frame.Push.class));
        return p.msgId();
    }

    private static double counter(Broker broker, String name) {
        return broker.observability().registry().get(name).counter().count();
    }

    /** The msgIds of {@code app}'s device acks on the ack topic now. */
    private static Set<Long> ackedMsgIds(KafkaBroker kafka, String app) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Set<Long> out = new HashSet<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(Topics.ACKS, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = c.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline && parts.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    AckRecord ack = AckRecord.decode(r.value());
                    if (ack.appId().equals(app)) {
                        out.add(ack.msgId());
                    }
                }
            }
        }
        return out;
    }
}
