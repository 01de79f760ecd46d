package io.tern.broker;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real broker publishes to the real Kafka ack topic only ACKs of messages it wrote to that
 * connection, once each. Absence is shown by order: each test ends with a legitimate ACK from
 * the same device, whose record comes after any record the forged one would have made (one
 * device's acks share a key, so a partition, and leave in order).
 */
class AckVerificationIT {
    private static final Duration AWAIT = Duration.ofSeconds(20);
    private static final AtomicLong ids = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));
    private static Broker broker;
    private static FrameClient logic;
    private static final AtomicLong correlation = new AtomicLong();

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        broker = Broker.start(TestBrokers.config(Map.of()));
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

    private static FrameClient device(Broker b, String app, String reg) {
        FrameClient d = FrameClient.tcp(b.tcpAddress());
        d.connect(app, reg, TestBrokers.token(app, reg));
        return d;
    }

    private static Frame.Push push(long broadcastSeq) {
        return new Frame.Push(ids.incrementAndGet(), System.currentTimeMillis() + 60_000, PayloadKind.DATA,
                "{}".getBytes(StandardCharsets.UTF_8), broadcastSeq);
    }

    /** Pushes to (app, reg) over the authenticated link; the device receives it. */
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
    void anAckOfAnotherDevicesMessageIsNotPublished() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient victim = device(broker, app, "victim");
             FrameClient intruder = device(broker, app, "intruder")) {
            long victims = pushTo(victim, app, "victim");
            long own = pushTo(intruder, app, "intruder");
            double unknownBefore = unknownAcks();
            intruder.send(new Frame.Ack(victims));
            intruder.send(new Frame.Ack(own));

            List<AckRecord> acks = AckTopic.acksOf(app, a -> a.stream().anyMatch(r -> r.msgId() == own), AWAIT);
            assertEquals(List.of(new AckRecord(app, "intruder", own, acks.get(0).ackedAtMillis(), broker.id())), acks,
                    "only the intruder's own message was acked");
            assertEquals(unknownBefore + 1, unknownAcks());
        }
    }

    @Test
    void aBroadcastAckedTwiceOnOneConnectionIsPublishedOnce() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient d = device(broker, app, "d1")) {
            Frame.Push b = push(1);
            logic.send(new Frame.Broadcast(correlation.incrementAndGet(), app, b));
            assertEquals(1, logic.expect(Frame.BroadcastResult.class).written());
            assertEquals(b, d.expect(Frame.Push.class));
            d.send(new Frame.Ack(b.msgId()));
            d.send(new Frame.Ack(b.msgId()));
            long last = pushTo(d, app, "d1");
            d.send(new Frame.Ack(last));

            List<AckRecord> acks = AckTopic.acksOf(app, a -> a.stream().anyMatch(r -> r.msgId() == last), AWAIT);
            assertEquals(List.of(b.msgId(), last), acks.stream().map(AckRecord::msgId).toList());
        }
    }

    @Test
    void aCountedBroadcastAckedTwiceCountsOnce() {
        Broker own = Broker.start(TestBrokers.config(Map.of("broker.ack-count-interval", "50ms")));
        String app = TestBrokers.uniqueApp();
        try (FrameClient d1 = device(own, app, "d1");
             FrameClient d2 = device(own, app, "d2");
             FrameClient node = FrameClient.internal(own.internalAddress())) {
            Frame.Push b = push(1);
            node.send(new Frame.Broadcast(1, app, b, true));
            assertEquals(2, node.expect(Frame.BroadcastResult.class).written());
            for (FrameClient d : List.of(d1, d2)) {
                assertEquals(b, d.expect(Frame.Push.class));
            }
            d1.send(new Frame.Ack(b.msgId()));
            d1.send(new Frame.Ack(b.msgId()));
            d1.send(new Frame.Ack(b.msgId()));
            d2.send(new Frame.Ack(b.msgId()));
            // Every ACK is read before the broker stops and sends its final counts.
            for (FrameClient d : List.of(d1, d2)) {
                d.send(Frame.Ping.INSTANCE);
                d.expect(Frame.Pong.class);
            }
        } finally {
            own.close();
        }
        // Count records carry the devices counted since the previous one: d1 and d2 may land in two windows.
        List<AckRecord> acks = AckTopic.acksOf(app, a -> a.stream().filter(AckRecord::isCount)
                .mapToLong(AckRecord::total).sum() >= 2, AWAIT);
        assertTrue(acks.stream().allMatch(AckRecord::isCount), "counted, not per device: " + acks);
        assertEquals(2, acks.stream().mapToLong(AckRecord::total).sum(), "one per device: " + acks);
    }
}
