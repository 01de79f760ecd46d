package io.tern.broker;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cumulative broadcast acks against a real broker and the real Kafka ack topic: the CONNACK announces them only
 * to a device that offers them, and each msgId of an ACKS counts exactly as its own ACK would (only msgIds
 * written to that connection, once each). Absence is shown by order, as in {@link AckVerificationIT}.
 */
class BroadcastAcksIT {
    private static final Duration AWAIT = Duration.ofSeconds(20);
    private static final AtomicLong ids = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));
    private static final AtomicLong correlation = new AtomicLong();
    /** Each broadcast its own sequence number: the broker drops a second BROADCAST of one app's seq. */
    private static final AtomicLong seqs = new AtomicLong();
    private static Broker broker;
    private static FrameClient logic;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        broker = Broker.start(TestBrokers.config(Map.of("broker.broadcast-ack-delay", "40ms",
                "broker.max-acks-per-frame", "4")));
        logic = FrameClient.internal(broker.internalAddress());
    }

    @AfterAll
    static void stop() {
        if (logic != null) {
            logic.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** A device whose CONNECT offers ACKS; its CONNACK carries the broker's delay and per-frame limit. */
    private static FrameClient device(Broker b, String app, String reg) {
        FrameClient d = FrameClient.tcp(b.tcpAddress());
        d.send(new Frame.Connect(app, reg, TestBrokers.token(app, reg), 0L, true));
        d.expect(Frame.ConnAck.class);
        return d;
    }

    private static Frame.Push push(long broadcastSeq) {
        return new Frame.Push(ids.incrementAndGet(), System.currentTimeMillis() + 60_000, PayloadKind.DATA,
                "{}".getBytes(StandardCharsets.UTF_8), broadcastSeq);
    }

    private static Frame.Push broadcast(FrameClient node, String app, boolean countAcks, int devices) {
        Frame.Push b = push(seqs.incrementAndGet());
        node.send(new Frame.Broadcast(correlation.incrementAndGet(), app, b, countAcks));
        assertEquals(devices, node.expect(Frame.BroadcastResult.class).written());
        return b;
    }

    private static long pushTo(FrameClient device, String app, String reg) {
        Frame.Push p = push(0);
        long id = correlation.incrementAndGet();
        logic.send(new Frame.PushCommand(id, app, reg, p));
        assertEquals(new Frame.PushResult(id, PushOutcome.WRITTEN), logic.expect(Frame.PushResult.class));
        assertEquals(p, device.expect(Frame.Push.class));
        return p.msgId();
    }

    private static double unknownAcks() {
        return broker.observability().registry().get("tern.broker.acks.unknown").counter().count();
    }

    @Test
    void theConnAckAnnouncesCumulativeAcksOnlyToADeviceThatOffersThem() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient offers = FrameClient.tcp(broker.tcpAddress());
             FrameClient old = FrameClient.tcp(broker.tcpAddress())) {
            offers.send(new Frame.Connect(app, "new", TestBrokers.token(app, "new"), 0L, true));
            Frame.ConnAck told = offers.expect(Frame.ConnAck.class);
            assertEquals(40, told.broadcastAckDelayMs());
            assertEquals(4, told.maxAcks());
            Frame.ConnAck plain = old.connect(app, "old", TestBrokers.token(app, "old"));
            assertEquals(0, plain.broadcastAckDelayMs(), "an older SDK gets the CONNACK it can read: " + plain);
        }
    }

    @Test
    void eachMsgIdOfAnAcksIsPublishedOnceAndOnlyIfItWasWrittenToThatConnection() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient victim = device(broker, app, "victim");
             FrameClient d = device(broker, app, "d")) {
            Frame.Push b1 = broadcast(logic, app, false, 2);
            Frame.Push b2 = broadcast(logic, app, false, 2);
            for (FrameClient c : List.of(victim, d)) {
                assertEquals(b1, c.expect(Frame.Push.class));
                assertEquals(b2, c.expect(Frame.Push.class));
            }
            long victims = pushTo(victim, app, "victim");
            double unknownBefore = unknownAcks();
            // The victim's single push and a repeat of b1 are ignored, as they would be in ACKs of their own.
            d.send(new Frame.Acks(new long[] {b1.msgId(), victims, b2.msgId(), b1.msgId()}));
            long own = pushTo(d, app, "d");
            d.send(new Frame.Ack(own));

            List<AckRecord> acks = AckTopic.acksOf(app, a -> a.stream().anyMatch(r -> r.msgId() == own), AWAIT);
            assertEquals(List.of("d:" + b1.msgId(), "d:" + b2.msgId(), "d:" + own),
                    acks.stream().map(r -> r.regId() + ":" + r.msgId()).toList());
            assertEquals(unknownBefore + 2, unknownAcks());
        }
    }

    @Test
    void countedBroadcastsAckedInAcksFramesCountEachDeviceOnce() {
        Broker own = Broker.start(TestBrokers.config(Map.of("broker.ack-count-interval", "50ms",
                "broker.broadcast-ack-delay", "40ms", "broker.max-acks-per-frame", "4")));
        String app = TestBrokers.uniqueApp();
        long[] broadcasts = new long[3];
        try (FrameClient d1 = device(own, app, "d1");
             FrameClient d2 = device(own, app, "d2");
             FrameClient node = FrameClient.internal(own.internalAddress())) {
            for (int i = 0; i < broadcasts.length; i++) {
                broadcasts[i] = broadcast(node, app, true, 2).msgId();
            }
            for (FrameClient d : List.of(d1, d2)) {
                for (long b : broadcasts) {
                    assertEquals(b, d.expect(Frame.Push.class).msgId());
                }
            }
            d1.send(new Frame.Acks(broadcasts));
            d1.send(new Frame.Acks(new long[] {broadcasts[0], broadcasts[2]})); // again: counted once
            d2.send(new Frame.Acks(new long[] {broadcasts[1]}));
            d2.send(new Frame.Acks(new long[] {broadcasts[2], broadcasts[0]}));
            // Every ACKS is read before the broker stops and sends its final counts.
            for (FrameClient d : List.of(d1, d2)) {
                d.send(Frame.Ping.INSTANCE);
                d.expect(Frame.Pong.class);
            }
        } finally {
            own.close();
        }
        List<AckRecord> acks = AckTopic.acksOf(app, a -> a.stream().filter(AckRecord::isCount)
                .mapToLong(AckRecord::total).sum() >= 6, AWAIT);
        assertTrue(acks.stream().allMatch(AckRecord::isCount), "counted, not per device: " + acks);
        Map<Long, Long> perBroadcast = acks.stream()
                .collect(Collectors.groupingBy(AckRecord::msgId, Collectors.summingLong(AckRecord::total)));
        assertEquals(Map.of(broadcasts[0], 2L, broadcasts[1], 2L, broadcasts[2], 2L), perBroadcast);
    }

    @Test
    void anAcksLongerThanTheAnnouncedLimitIsAProtocolViolation() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient d = device(broker, app, "d")) {
            d.send(new Frame.Acks(new long[] {1, 2, 3, 4, 5}));
            d.expectDisconnect(ReasonCode.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void anAcksListingNoMsgIdIsMalformed() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient d = device(broker, app, "d")) {
            d.sendRaw(new byte[] {1, (byte) FrameType.ACKS.code(), 0, 0, 0, 0, 0, 2, 0, 0});
            d.expectDisconnect(ReasonCode.MALFORMED_FRAME);
        }
    }
}
