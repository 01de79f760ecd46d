package io.tern.broker.delivery;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.broker.ack.BroadcastAckCounts;
import io.tern.broker.broadcast.Broadcaster;
import io.tern.broker.broadcast.RecentBroadcasts;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Sessions;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.topic.DeviceHash;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PushCommandHandlerTest {
    private static final Frame.Push PUSH = new Frame.Push(9, 1_800_000_000_000L, PayloadKind.DATA, new byte[]{'{', '}'});

    private SimpleMeterRegistry registry;
    private Sessions sessions;
    private EmbeddedChannel internal;
    private BroadcastAckCounts ackCounts;

    @BeforeEach
    void setUp() {
        registry = new SimpleMeterRegistry();
        BrokerMetrics metrics = new BrokerMetrics(registry);
        sessions = new Sessions("b1", 1L, 16);
        ackCounts = new BroadcastAckCounts("b1", 8, Duration.ofMinutes(1), 64, 64, System::nanoTime, () -> 0L);
        internal = new EmbeddedChannel(new PushCommandHandler("b1", sessions,
                new Disconnects(metrics, Duration.ofSeconds(1)), metrics,
                new Broadcaster("b1", sessions.apps(), 2, 64, metrics, 256, 16, 100, Duration.ofMillis(50)), ackCounts, 4,
                new RecentBroadcasts(16)));
    }

    private Frame.PushResult result() {
        return assertInstanceOf(Frame.PushResult.class, internal.readOutbound());
    }

    @Test
    void aConnectedDeviceGetsThePushAndTheCommandIsWritten() {
        EmbeddedChannel device = new EmbeddedChannel();
        sessions.open("app", "r1", "local", device, false);
        internal.writeInbound(new Frame.PushCommand(5, "app", "r1", PUSH));
        assertEquals(PUSH, device.readOutbound());
        assertEquals(new Frame.PushResult(5, PushOutcome.WRITTEN), result());
        assertEquals(1.0, registry.get("tern.broker.pushes.written").tag("source", "command").counter().count());
    }

    @Test
    void anUnknownDeviceIsNotConnected() {
        internal.writeInbound(new Frame.PushCommand(6, "app", "nobody", PUSH));
        assertEquals(new Frame.PushResult(6, PushOutcome.NOT_CONNECTED), result());
    }

    @Test
    void aClosedDeviceIsNotConnected() {
        EmbeddedChannel device = new EmbeddedChannel();
        sessions.open("app", "r1", "local", device, false);
        device.close();
        internal.writeInbound(new Frame.PushCommand(7, "app", "r1", PUSH));
        assertEquals(new Frame.PushResult(7, PushOutcome.NOT_CONNECTED), result());
    }

    @Test
    void anUnwritableDeviceIsBackpressure() {
        EmbeddedChannel device = new EmbeddedChannel();
        device.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        device.write(Unpooled.wrappedBuffer(new byte[64])); // written, not flushed: over the high mark
        assertFalse(device.isWritable());
        sessions.open("app", "r1", "local", device, false);
        internal.writeInbound(new Frame.PushCommand(8, "app", "r1", PUSH));
        assertEquals(new Frame.PushResult(8, PushOutcome.BACKPRESSURE), result());
    }

    @Test
    void aDeviceFrameOnTheInternalPortIsAProtocolViolation() {
        internal.writeInbound(new Frame.Connect("a", "r", "t", 0));
        Frame.Disconnect d = assertInstanceOf(Frame.Disconnect.class, internal.readOutbound());
        assertEquals(ReasonCode.PROTOCOL_VIOLATION, d.reason());
        assertFalse(internal.isOpen());
        assertNull(internal.readOutbound());
    }

    @Test
    void aBatchGoesToConnectedWritableDevicesAndNamesTheRest() {
        EmbeddedChannel r1 = new EmbeddedChannel();
        EmbeddedChannel r2 = new EmbeddedChannel();
        EmbeddedChannel slow = new EmbeddedChannel();
        slow.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        slow.write(Unpooled.wrappedBuffer(new byte[64]));
        sessions.open("app", "r1", "local", r1, false);
        sessions.open("app", "r2", "local", r2, false);
        sessions.open("app", "slow", "local", slow, false);
        sessions.open("other", "r3", "local", new EmbeddedChannel(), false);
        Frame.Push push = PUSH.withBroadcastSeq(0);
        internal.writeInbound(new Frame.PushBatch(3, "app", push, List.of("r1", "absent", "slow", "r2", "r3")));

        assertEquals(push, decode(r1.readOutbound()));
        assertEquals(push, decode(r2.readOutbound()));
        assertEquals(new Frame.PushBatchResult(3, 2, List.of("absent", "slow", "r3")),
                internal.readOutbound());
        assertEquals(0, lastWritten.refCnt(), "the frame is encoded once and released once every copy is written");
        assertEquals(2.0, registry.get("tern.broker.pushes.written").tag("source", "batch").counter().count());
        assertEquals(3.0, registry.get("tern.broker.push.batch.misses").counter().count());
    }

    @Test
    void aBatchToNobodyConnectedIsAnsweredAtOnce() {
        internal.writeInbound(new Frame.PushBatch(4, "app", PUSH, List.of("a", "b")));
        assertEquals(new Frame.PushBatchResult(4, 0, List.of("a", "b")), internal.readOutbound());
    }

    @Test
    void aBroadcastReachesEveryWritableConnectionOfTheAppOnly() {
        List<EmbeddedChannel> app = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            sessions.open("app", "r" + i, "local", ch, false);
            app.add(ch);
        }
        EmbeddedChannel slow = new EmbeddedChannel();
        slow.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        slow.write(Unpooled.wrappedBuffer(new byte[64]));
        sessions.open("app", "slow", "local", slow, false);
        EmbeddedChannel other = new EmbeddedChannel();
        sessions.open("other", "r0", "local", other, false);

        Frame.Push push = PUSH.withBroadcastSeq(17);
        internal.writeInbound(new Frame.Broadcast(8, "app", push));
        // Every EmbeddedChannel is its own event loop: run each loop's share.
        slow.runPendingTasks();
        other.runPendingTasks();
        for (EmbeddedChannel ch : app) {
            ch.runPendingTasks();
            assertEquals(push, decode(ch.readOutbound()));
        }
        internal.runPendingTasks();
        assertEquals(new Frame.BroadcastResult(8, 5), internal.readOutbound());
        assertEquals(1, lastWritten.refCnt(), "the copy parked for the unwritable connection holds the frame");
        assertNull(other.readOutbound());
        assertEquals(5.0, registry.get("tern.broker.broadcast.deliveries").tag("result", "written").counter().count());
        assertEquals(0.0, registry.get("tern.broker.broadcast.deliveries").tag("result", "skipped").counter().count());

        slow.flush(); // it drains: its copy follows
        assertEquals(64, ((ByteBuf) slow.readOutbound()).readableBytes());
        slow.advanceTimeBy(50, TimeUnit.MILLISECONDS);
        slow.runScheduledPendingTasks();
        assertEquals(push, decode(slow.readOutbound()));
        assertEquals(0, lastWritten.refCnt(), "the frame is encoded once and released once every copy is written");
    }

    @Test
    void aBroadcastSentAgainIsAnsweredWithItsFirstCountWithoutWritingAgain() {
        EmbeddedChannel device = new EmbeddedChannel();
        sessions.open("app", "r1", "local", device, false);
        Frame.Push push = PUSH.withBroadcastSeq(21);
        internal.writeInbound(new Frame.Broadcast(30, "app", push));
        device.runPendingTasks();
        assertEquals(push, decode(device.readOutbound()));
        internal.runPendingTasks();
        assertEquals(new Frame.BroadcastResult(30, 1), internal.readOutbound());

        // Another logic node finishing the fan-out sends the same app broadcast again.
        internal.writeInbound(new Frame.Broadcast(31, "app", push));
        device.runPendingTasks();
        internal.runPendingTasks();
        assertEquals(new Frame.BroadcastResult(31, 1), internal.readOutbound(), "the first count");
        assertNull(device.readOutbound(), "not written to the device twice");

        // The next broadcast of the app, or the same seq of another app, is a new one.
        Frame.Push next = PUSH.withBroadcastSeq(22);
        internal.writeInbound(new Frame.Broadcast(32, "app", next));
        device.runPendingTasks();
        assertEquals(next, decode(device.readOutbound()));
        assertEquals(2.0, registry.get("tern.broker.broadcast.deliveries").tag("result", "written").counter().count());
    }

    @Test
    void onlyABroadcastWithCountAcksHasItsAcksCounted() {
        internal.writeInbound(new Frame.Broadcast(10, "app", new Frame.Push(100, 1_800_000_000_000L, PayloadKind.DATA,
                new byte[]{'{', '}'}, 1), true));
        internal.writeInbound(new Frame.Broadcast(11, "app", new Frame.Push(101, 1_800_000_000_000L, PayloadKind.DATA,
                new byte[]{'{', '}'}, 2)));
        assertTrue(ackCounts.count(100, DeviceHash.of("d1")));
        assertFalse(ackCounts.count(101, DeviceHash.of("d1")), "per-device receipts: the task has a callback");
    }

    @Test
    void aFullBroadcasterStopsReadingTheNodeUntilABroadcastFinishes() {
        BrokerMetrics metrics = new BrokerMetrics(new SimpleMeterRegistry());
        EmbeddedChannel node = new EmbeddedChannel(new PushCommandHandler("b1", sessions,
                new Disconnects(metrics, Duration.ofSeconds(1)), metrics,
                new Broadcaster("b1", sessions.apps(), 512, 2, metrics, 256, 16, 100, Duration.ofMillis(50)), ackCounts, 100,
                new RecentBroadcasts(16)));
        EmbeddedChannel device = new EmbeddedChannel();
        sessions.open("app", "r1", "local", device, false);
        node.writeInbound(new Frame.Broadcast(1, "app", PUSH.withBroadcastSeq(1)));
        assertTrue(node.config().isAutoRead());
        node.writeInbound(new Frame.Broadcast(2, "app", PUSH.withBroadcastSeq(2)));
        assertFalse(node.config().isAutoRead(), "two broadcasts in flight: the broker's limit");

        device.runPendingTasks();
        node.runPendingTasks();
        assertEquals(new Frame.BroadcastResult(1, 1), node.readOutbound());
        assertEquals(new Frame.BroadcastResult(2, 1), node.readOutbound());
        assertTrue(node.config().isAutoRead());
    }

    @Test
    void aBroadcastToAnAppWithNoConnectionsHereIsZero() {
        internal.writeInbound(new Frame.Broadcast(9, "nobody", PUSH.withBroadcastSeq(1)));
        internal.runPendingTasks();
        assertEquals(new Frame.BroadcastResult(9, 0), internal.readOutbound());
    }

    private ByteBuf lastWritten;

    /** Batches and broadcasts write encoded bytes (duplicates of one buffer): decode them back. */
    private Frame decode(Object written) {
        ByteBuf buf = assertInstanceOf(ByteBuf.class, written);
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY));
        decoder.writeInbound(buf);
        lastWritten = buf;
        return decoder.readInbound();
    }
}
