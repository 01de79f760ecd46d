package io.tern.broker;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Acks of a broadcast sent with COUNT_ACKS leave a real broker as count records on the real
 * Kafka ack topic; without the flag, one record per device as before; and a broker that stops
 * sends the counts it has not sent yet.
 */
class BroadcastAckCountIT {
    private static final Duration AWAIT = Duration.ofSeconds(20);
    private static final int DEVICES = 40;
    private static final AtomicLong ids = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));

    @BeforeAll
    static void topics() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
    }

    private static List<FrameClient> connectAll(Broker broker, String app, int n) {
        List<FrameClient> devices = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            FrameClient d = FrameClient.tcp(broker.tcpAddress());
            d.send(new Frame.Connect(app, "d" + i, TestBrokers.token(app, "d" + i), 0));
            devices.add(d);
        }
        devices.forEach(d -> d.expect(Frame.ConnAck.class));
        return devices;
    }

    /** Broadcasts to every device and has each one ACK what it got. */
    private static long broadcastAndAck(Broker broker, String app, List<FrameClient> devices, boolean countAcks) {
        long msgId = ids.incrementAndGet();
        Frame.Push push = new Frame.Push(msgId, System.currentTimeMillis() + 60_000, PayloadKind.DATA,
                "{}".getBytes(StandardCharsets.UTF_8), 1);
        try (FrameClient logic = FrameClient.internal(broker.internalAddress())) {
            logic.send(new Frame.Broadcast(1, app, push, countAcks));
            assertEquals(DEVICES, logic.expect(Frame.BroadcastResult.class).written());
        }
        for (FrameClient d : devices) {
            d.send(new Frame.Ack(d.expect(Frame.Push.class).msgId()));
        }
        return msgId;
    }

    /** Distinct devices in the count records. */
    private static long highestCount(List<AckRecord> acks) {
        return acks.stream().filter(AckRecord::isCount).flatMapToLong(a -> java.util.Arrays.stream(a.deviceHashes()))
                .distinct().count();
    }

    @Test
    void acksOfACountedBroadcastArriveAsCountRecordsWithTheNumberOfDevices() {
        Broker broker = Broker.start(TestBrokers.config(Map.of("broker.ack-count-interval", "50ms")));
        String app = TestBrokers.uniqueApp();
        List<FrameClient> devices = connectAll(broker, app, DEVICES);
        try {
            long msgId = broadcastAndAck(broker, app, devices, true);
            List<AckRecord> acks = AckTopic.acksOf(app, a -> highestCount(a) == DEVICES, AWAIT);
            assertEquals(DEVICES, highestCount(acks));
            assertTrue(acks.stream().allMatch(a -> a.isCount() && a.msgId() == msgId && a.brokerId().equals(broker.id())),
                    "no per-device record: " + acks);
            assertTrue(acks.size() < DEVICES, "a few counts, not one record per device: " + acks.size());
            assertEquals(DEVICES, acks.stream().mapToLong(AckRecord::total).sum(), "each device in one record");
        } finally {
            devices.forEach(FrameClient::close);
            broker.close();
        }
    }

    @Test
    void aBroadcastWithoutCountAcksKeepsOneRecordPerDevice() {
        Broker broker = Broker.start(TestBrokers.config(Map.of()));
        String app = TestBrokers.uniqueApp();
        List<FrameClient> devices = connectAll(broker, app, DEVICES);
        try {
            long msgId = broadcastAndAck(broker, app, devices, false);
            List<AckRecord> acks = AckTopic.acksOf(app, a -> a.size() >= DEVICES, AWAIT);
            assertEquals(DEVICES, acks.size());
            assertTrue(acks.stream().noneMatch(AckRecord::isCount));
            assertEquals(DEVICES, acks.stream().filter(a -> a.msgId() == msgId).map(AckRecord::regId).distinct().count());
        } finally {
            devices.forEach(FrameClient::close);
            broker.close();
        }
    }

    @Test
    void aStoppingBrokerSendsTheCountsItHasNotSentYet() {
        // Counts would go out only every minute: whatever reaches Kafka came from close().
        Broker broker = Broker.start(TestBrokers.config(Map.of("broker.ack-count-interval", "1m",
                "broker.ack-count-window", "1h")));
        String app = TestBrokers.uniqueApp();
        List<FrameClient> devices = connectAll(broker, app, DEVICES);
        long msgId;
        try {
            msgId = broadcastAndAck(broker, app, devices, true);
            // Every ACK is read before the broker stops: ask for one more round trip per device.
            for (FrameClient d : devices) {
                d.send(Frame.Ping.INSTANCE);
                d.expect(Frame.Pong.class);
            }
            assertEquals(List.of(), AckTopic.acksOf(app, a -> !a.isEmpty(), Duration.ofMillis(500)), "nothing sent yet");
        } finally {
            broker.close();
            devices.forEach(FrameClient::close);
        }
        List<AckRecord> acks = AckTopic.acksOf(app, a -> highestCount(a) == DEVICES, AWAIT);
        assertEquals(1, acks.size(), "one record with every device: " + acks);
        assertTrue(acks.get(0).isCount() && acks.get(0).msgId() == msgId && acks.get(0).total() == DEVICES, acks.toString());
    }
}
