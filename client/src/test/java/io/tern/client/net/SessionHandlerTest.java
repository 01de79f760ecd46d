package io.tern.client.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler.ClientHandshakeStateEvent;
import io.tern.client.internal.RecentIds;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.ReasonCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionHandlerTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final Frame.Connect CONNECT = new Frame.Connect("demo", "dev-1", "tok", 0);
    private static final long HANDSHAKE_MILLIS = 5_000;

    private final Recorder events = new Recorder();
    private final RecentIds dedup = new RecentIds(16);
    private final Clock clock = Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC);

    private EmbeddedChannel channel(boolean webSocket) {
        return frozen(new EmbeddedChannel(new SessionHandler("[client demo/dev-1]", CONNECT, webSocket,
                HANDSHAKE_MILLIS, dedup, clock, events)));
    }

    /** The channel's clock moves only by advanceTimeBy: timers fire at exact times on a loaded machine too. */
    private static EmbeddedChannel frozen(EmbeddedChannel ch) {
        ch.freezeTime();
        return ch;
    }

    /** A channel past the handshake: CONNECT read off, CONNACK delivered. */
    private EmbeddedChannel connected() {
        EmbeddedChannel ch = channel(false);
        assertEquals(CONNECT, ch.readOutbound());
        ch.writeInbound(new Frame.ConnAck(30, NOW));
        return ch;
    }

    private static Frame.Push push(long msgId, long expiresAt) {
        return new Frame.Push(msgId, expiresAt, PayloadKind.DATA, ("{\"n\":" + msgId + "}").getBytes(StandardCharsets.UTF_8));
    }

    private static List<Object> outbound(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        for (Object o = ch.readOutbound(); o != null; o = ch.readOutbound()) {
            out.add(o);
        }
        return out;
    }

    @Test
    void sendsConnectAsSoonAsTheChannelIsActive() {
        EmbeddedChannel ch = channel(false);
        assertEquals(CONNECT, ch.readOutbound());
        assertNull(ch.readOutbound());
        assertTrue(events.connAcks.isEmpty());
    }

    @Test
    void overWebSocketConnectWaitsForTheUpgrade() {
        EmbeddedChannel ch = channel(true);
        assertNull(ch.readOutbound());
        ch.pipeline().fireUserEventTriggered(ClientHandshakeStateEvent.HANDSHAKE_COMPLETE);
        assertEquals(CONNECT, ch.readOutbound());
    }

    @Test
    void connAckMeansConnectedAndStartsTheHeartbeat() {
        EmbeddedChannel ch = connected();
        assertEquals(List.of(new Frame.ConnAck(30, NOW)), events.connAcks);
        assertTrue(ch.isActive());
        after(ch, 29_999);
        assertEquals(List.of(), outbound(ch));
        after(ch, 1);
        assertEquals(List.of(Frame.Ping.INSTANCE), outbound(ch), "a PING once the CONNACK's 30 s passed without a write");
    }

    @Test
    void withoutAHeartbeatNothingIsEverSent() {
        EmbeddedChannel ch = channel(false);
        assertEquals(CONNECT, ch.readOutbound());
        ch.writeInbound(new Frame.ConnAck(0, NOW));
        after(ch, 3_600_000);
        assertEquals(List.of(), outbound(ch));
        assertTrue(ch.isActive());
    }

    /** Moves the channel's clock on and runs the timers then due. */
    private static void after(EmbeddedChannel ch, long millis) {
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
    }

    @Test
    void pushIsDeliveredAndAcked() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(push(7, NOW + 60_000));
        assertEquals(1, events.messages.size());
        assertEquals(7, events.messages.get(0).msgId());
        assertEquals(List.of(new Frame.Ack(7)), outbound(ch));
    }

    @Test
    void duplicateIsDeliveredOnceButAckedTwice() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(push(7, 0));
        ch.writeInbound(push(8, 0));
        ch.writeInbound(push(7, 0));
        assertEquals(List.of(7L, 8L), events.messages.stream().map(Frame.Push::msgId).toList());
        assertEquals(List.of(7L), events.duplicates);
        assertEquals(List.of(new Frame.Ack(7), new Frame.Ack(8), new Frame.Ack(7)), outbound(ch));
    }

    @Test
    void duplicatesAreCaughtAcrossSessionsSharingTheIdSet() {
        EmbeddedChannel first = connected();
        first.writeInbound(push(7, 0));
        first.close();
        EmbeddedChannel second = connected();
        second.writeInbound(push(7, 0));
        assertEquals(1, events.messages.size());
        assertEquals(List.of(new Frame.Ack(7)), outbound(second));
    }

    @Test
    void expiredMessageIsAckedButNotDelivered() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(push(9, NOW - 1));
        ch.writeInbound(push(10, NOW));
        ch.writeInbound(push(11, 0)); // 0: never expires
        assertEquals(List.of(11L), events.messages.stream().map(Frame.Push::msgId).toList());
        assertEquals(List.of(9L, 10L), events.expired);
        assertEquals(List.of(new Frame.Ack(9), new Frame.Ack(10), new Frame.Ack(11)), outbound(ch));
    }

    @ParameterizedTest
    @CsvSource({
            "SESSION_REPLACED, STOP",
            "TOKEN_INVALID, REDISPATCH",
            "TOKEN_EXPIRED, REDISPATCH",
            "SERVER_SHUTTING_DOWN, REDISPATCH",
            "REGION_MOVED, REDISPATCH",
            "SERVER_BUSY, RECONNECT",
            "IDLE_TIMEOUT, RECONNECT",
            "INTERNAL_ERROR, RECONNECT",
            "OK, RECONNECT",
    })
    void disconnectWhileConnectedDecidesTheNextStep(ReasonCode reason, NextStep expected) {
        EmbeddedChannel ch = connected();
        ch.writeInbound(new Frame.Disconnect(reason, "bye"));
        ch.runPendingTasks();
        assertFalse(ch.isActive());
        assertEquals(1, events.ends.size());
        SessionEnd end = events.ends.get(0);
        assertEquals(expected, end.next());
        assertEquals(reason, end.reason());
        assertEquals("bye", end.detail());
        assertTrue(end.connected());
    }

    @ParameterizedTest
    @CsvSource({
            "SERVER_BUSY, NEXT_ADDRESS",
            "INTERNAL_ERROR, NEXT_ADDRESS",
            "TOKEN_EXPIRED, REDISPATCH",
            "TOKEN_INVALID, REDISPATCH",
            "SESSION_REPLACED, STOP",
    })
    void disconnectDuringHandshakeDecidesTheNextStep(ReasonCode reason, NextStep expected) {
        EmbeddedChannel ch = channel(false);
        ch.writeInbound(new Frame.Disconnect(reason, ""));
        ch.runPendingTasks();
        assertFalse(ch.isActive());
        assertTrue(events.connAcks.isEmpty());
        assertEquals(expected, events.ends.get(0).next());
        assertFalse(events.ends.get(0).connected());
    }

    @Test
    void redirectWithAddressesGoesThere() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(new Frame.Redirect(ReasonCode.REGION_MOVED, List.of("10.0.0.2:7000", "10.0.0.3:7000")));
        ch.runPendingTasks();
        assertFalse(ch.isActive());
        SessionEnd end = events.ends.get(0);
        assertEquals(NextStep.REDIRECT, end.next());
        assertEquals(List.of("10.0.0.2:7000", "10.0.0.3:7000"), end.redirectTo());
        assertEquals(ReasonCode.REGION_MOVED, end.reason());
    }

    @Test
    void emptyRedirectMeansAskTheDispatcher() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(new Frame.Redirect(ReasonCode.REGION_MOVED, List.of()));
        ch.runPendingTasks();
        assertEquals(NextStep.REDISPATCH, events.ends.get(0).next());
    }

    @Test
    void framesAfterADisconnectInTheSameReadAreIgnored() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(new Frame.Disconnect(ReasonCode.SERVER_SHUTTING_DOWN, ""), push(5, 0));
        ch.runPendingTasks();
        assertTrue(events.messages.isEmpty());
        assertEquals(1, events.ends.size());
    }

    @Test
    void writerIdleSendsPingAHeartbeatAfterTheLastWrite() {
        EmbeddedChannel ch = connected();
        after(ch, 30_000);
        assertEquals(List.of(Frame.Ping.INSTANCE), outbound(ch));
        after(ch, 15_000);
        ch.writeInbound(push(1, 0)); // its ACK is a write
        assertEquals(List.of(new Frame.Ack(1)), outbound(ch));
        after(ch, 29_999);
        assertEquals(List.of(), outbound(ch), "the ACK put the next PING off");
        after(ch, 1);
        assertEquals(List.of(Frame.Ping.INSTANCE), outbound(ch));
        ch.writeAndFlush(new Frame.Subscribe(List.of("news"))); // the client's own writes count too
        outbound(ch);
        after(ch, 29_999);
        assertEquals(List.of(), outbound(ch));
        assertTrue(ch.isActive());
    }

    @Test
    void readerIdleForThreeHeartbeatsClosesAndReconnects() {
        EmbeddedChannel ch = connected();
        after(ch, 60_000);
        ch.writeInbound(Frame.Pong.INSTANCE); // anything read puts the timeout off
        after(ch, 89_999);
        assertTrue(ch.isActive());
        assertTrue(events.ends.isEmpty());
        after(ch, 1);
        ch.runPendingTasks();
        assertFalse(ch.isActive());
        SessionEnd end = events.ends.get(0);
        assertEquals(NextStep.RECONNECT, end.next());
        assertEquals(ReasonCode.IDLE_TIMEOUT, end.reason());
    }

    @Test
    void pingFromBrokerIsAnsweredWithPong() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(Frame.Ping.INSTANCE);
        assertEquals(List.of(Frame.Pong.INSTANCE), outbound(ch));
    }

    @Test
    void pushBeforeConnAckIsAProtocolViolation() {
        EmbeddedChannel ch = channel(false);
        ch.readOutbound(); // CONNECT
        ch.writeInbound(push(1, 0));
        ch.runPendingTasks();
        Object out = ch.readOutbound();
        assertInstanceOf(Frame.Disconnect.class, out);
        assertEquals(ReasonCode.PROTOCOL_VIOLATION, ((Frame.Disconnect) out).reason());
        assertFalse(ch.isActive());
        assertTrue(events.messages.isEmpty());
        assertEquals(NextStep.NEXT_ADDRESS, events.ends.get(0).next());
    }

    @Test
    void decodeFailureIsAnsweredWithItsReasonAndReconnects() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(new DecodeFailure(ReasonCode.FRAME_TOO_LARGE, "body 99999 bytes"));
        ch.runPendingTasks();
        Frame.Disconnect out = (Frame.Disconnect) ch.readOutbound();
        assertEquals(ReasonCode.FRAME_TOO_LARGE, out.reason());
        assertFalse(ch.isActive());
        assertEquals(NextStep.RECONNECT, events.ends.get(0).next());
        assertEquals(ReasonCode.FRAME_TOO_LARGE, events.ends.get(0).reason());
    }

    @Test
    void connectionLostAfterConnAckReconnectsWithoutAReason() {
        EmbeddedChannel ch = connected();
        ch.close();
        SessionEnd end = events.ends.get(0);
        assertEquals(NextStep.RECONNECT, end.next());
        assertNull(end.reason());
        assertTrue(end.connected());
    }

    @Test
    void connectionLostDuringHandshakeTriesTheNextAddress() {
        EmbeddedChannel ch = channel(false);
        ch.close();
        assertEquals(NextStep.NEXT_ADDRESS, events.ends.get(0).next());
        assertFalse(events.ends.get(0).connected());
    }

    @Test
    void missingConnAckTimesOut() {
        EmbeddedChannel ch = channel(false);
        ch.advanceTimeBy(HANDSHAKE_MILLIS + 1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
        assertFalse(ch.isActive());
        assertEquals(NextStep.NEXT_ADDRESS, events.ends.get(0).next());
        assertEquals(ReasonCode.HANDSHAKE_TIMEOUT, events.ends.get(0).reason());
    }

    @Test
    void connAckCancelsTheHandshakeTimer() {
        EmbeddedChannel ch = connected();
        ch.advanceTimeBy(HANDSHAKE_MILLIS + 1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isActive());
        assertTrue(events.ends.isEmpty());
    }

    @Test
    void serverBusyWithARetryHintMeansRetryLaterWithTheHintWhetherConnectedOrNot() {
        EmbeddedChannel handshaking = channel(false);
        handshaking.writeInbound(new Frame.Disconnect(ReasonCode.SERVER_BUSY, "admission limit; retry-after-ms=1234"));
        handshaking.runPendingTasks();
        EmbeddedChannel live = connected();
        live.writeInbound(new Frame.Disconnect(ReasonCode.SERVER_BUSY, "admission limit; retry-after-ms=80"));
        live.runPendingTasks();
        assertEquals(2, events.ends.size());
        assertEquals(NextStep.RETRY_LATER, events.ends.get(0).next());
        assertEquals(1234, events.ends.get(0).retryAfterMillis());
        assertFalse(events.ends.get(0).connected());
        assertEquals(NextStep.RETRY_LATER, events.ends.get(1).next());
        assertEquals(80, events.ends.get(1).retryAfterMillis());
    }

    @Test
    void endIsReportedExactlyOnce() {
        EmbeddedChannel ch = connected();
        ch.writeInbound(new Frame.Disconnect(ReasonCode.SERVER_BUSY, ""));
        ch.close();
        ch.runPendingTasks();
        assertEquals(1, events.ends.size());
    }

    private static final Frame.Connect OFFERS_ACKS = new Frame.Connect("demo", "dev-1", "tok", 0, true);

    /** Connected with cumulative acks: the CONNECT offered them, the CONNACK allows {@code maxAcks} per 40 ms. */
    private EmbeddedChannel batching(int maxAcks) {
        EmbeddedChannel ch = frozen(new EmbeddedChannel(new SessionHandler("[client demo/dev-1]", OFFERS_ACKS, false,
                HANDSHAKE_MILLIS, dedup, clock, events)));
        assertEquals(OFFERS_ACKS, ch.readOutbound());
        ch.writeInbound(new Frame.ConnAck(30, NOW, 40, maxAcks));
        return ch;
    }

    private static Frame.Push broadcast(long msgId) {
        return push(msgId, 0).withBroadcastSeq(msgId);
    }

    @Test
    void broadcastAcksAreHeldAndSentAsOneAcksOnceTheBrokersMaximumIsHeld() {
        EmbeddedChannel ch = batching(3);
        ch.writeInbound(broadcast(1), broadcast(2));
        assertEquals(List.of(), outbound(ch), "held, not written");
        ch.writeInbound(broadcast(3), broadcast(4));
        assertEquals(List.of(new Frame.Acks(new long[] {1, 2, 3})), outbound(ch));
        assertEquals(4, events.messages.size(), "delivered at once; only the ack waits");
        ch.advanceTimeBy(40, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(List.of(new Frame.Acks(new long[] {4})), outbound(ch), "the rest when its delay is up");
    }

    @Test
    void heldBroadcastAcksAreSentWhenTheDelaySinceTheFirstIsUp() {
        EmbeddedChannel ch = batching(64);
        ch.writeInbound(broadcast(1));
        ch.advanceTimeBy(30, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ch.writeInbound(broadcast(2));
        assertEquals(List.of(), outbound(ch), "30 of 40 ms");
        ch.advanceTimeBy(10, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(List.of(new Frame.Acks(new long[] {1, 2})), outbound(ch));
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(List.of(), outbound(ch), "nothing held, no timer");
    }

    @Test
    void singlePushesAreAckedAtOnceAndTakeTheHeldAcksAlong() {
        EmbeddedChannel ch = batching(64);
        ch.writeInbound(broadcast(1), broadcast(2));
        ch.writeInbound(push(7, 0));
        assertEquals(List.of(new Frame.Acks(new long[] {1, 2}), new Frame.Ack(7)), outbound(ch));
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(List.of(), outbound(ch), "the timer went with the acks");
    }

    @Test
    void heldAcksGoAheadOfEveryOtherWrite() {
        EmbeddedChannel ch = batching(64);
        ch.writeInbound(broadcast(1));
        ch.writeAndFlush(new Frame.Subscribe(List.of("news"))); // the client's own writes, through the pipeline
        assertEquals(List.of(new Frame.Acks(new long[] {1}), new Frame.Subscribe(List.of("news"))), outbound(ch));
        ch.writeInbound(broadcast(3));
        ch.writeInbound(Frame.Ping.INSTANCE);
        assertEquals(List.of(new Frame.Acks(new long[] {3}), Frame.Pong.INSTANCE), outbound(ch));
    }

    @Test
    void heldAcksGoAheadOfAHeartbeatPing() {
        EmbeddedChannel ch = frozen(new EmbeddedChannel(new SessionHandler("[client demo/dev-1]", OFFERS_ACKS, false,
                HANDSHAKE_MILLIS, dedup, clock, events)));
        assertEquals(OFFERS_ACKS, ch.readOutbound());
        ch.writeInbound(new Frame.ConnAck(1, NOW, 5_000, 64)); // a heartbeat shorter than the ack delay
        ch.writeInbound(broadcast(2));
        after(ch, 1_000);
        assertEquals(List.of(new Frame.Acks(new long[] {2}), Frame.Ping.INSTANCE), outbound(ch));
    }

    @Test
    void heldAcksAreSentBeforeTheClientsDisconnectAndClose() {
        EmbeddedChannel ch = batching(64);
        ch.writeInbound(broadcast(1));
        ch.writeAndFlush(new Frame.Disconnect(ReasonCode.OK, "client closed"));
        assertEquals(List.of(new Frame.Acks(new long[] {1}), new Frame.Disconnect(ReasonCode.OK, "client closed")),
                outbound(ch));
        ch.writeInbound(broadcast(2));
        ch.close();
        assertEquals(List.of(new Frame.Acks(new long[] {2})), outbound(ch), "a bare close flushes them too");
        assertFalse(ch.isActive());
    }

    @Test
    void heldAcksPrecedeTheDisconnectOfAFailedSession() {
        EmbeddedChannel ch = batching(64);
        ch.writeInbound(broadcast(1));
        ch.writeInbound(new DecodeFailure(ReasonCode.MALFORMED_FRAME, "bad"));
        List<Object> out = outbound(ch);
        assertEquals(new Frame.Acks(new long[] {1}), out.get(0));
        assertInstanceOf(Frame.Disconnect.class, out.get(1));
    }

    @Test
    void heldAcksOfAConnectionThatBreaksAreReportedLostFromTheirLowestSequenceBeforeTheEnd() {
        EmbeddedChannel ch = batching(64);
        ch.writeInbound(broadcast(5), broadcast(3), broadcast(4)); // a catch-up may interleave with live ones
        ch.pipeline().fireChannelInactive(); // the broker went away: nothing written, nothing more read
        assertEquals(List.of(), outbound(ch));
        assertEquals(List.of(3L), events.acksLostFrom);
        assertEquals(1, events.ends.size());
    }

    @Test
    void acksAlreadySentAreNotReportedLost() {
        EmbeddedChannel ch = batching(64);
        ch.writeInbound(broadcast(1));
        after(ch, 40);
        assertEquals(List.of(new Frame.Acks(new long[] {1})), outbound(ch));
        ch.pipeline().fireChannelInactive();
        assertEquals(List.of(), events.acksLostFrom);
    }

    @Test
    void aBrokerThatAnnouncesNoDelayGetsEveryAckOnItsOwn() {
        // The SDK offered cumulative acks; an older broker (or one configured with no delay) answers the old CONNACK.
        EmbeddedChannel ch = frozen(new EmbeddedChannel(new SessionHandler("[client demo/dev-1]", OFFERS_ACKS, false,
                HANDSHAKE_MILLIS, dedup, clock, events)));
        assertEquals(OFFERS_ACKS, ch.readOutbound());
        ch.writeInbound(new Frame.ConnAck(30, NOW));
        ch.writeInbound(broadcast(1), broadcast(2), push(3, 0));
        assertEquals(List.of(new Frame.Ack(1), new Frame.Ack(2), new Frame.Ack(3)), outbound(ch));
    }

    @Test
    void aDelayAnnouncedToAConnectThatDidNotOfferAcksIsNotUsed() {
        EmbeddedChannel ch = channel(false);
        assertEquals(CONNECT, ch.readOutbound());
        ch.writeInbound(new Frame.ConnAck(30, NOW, 40, 64));
        ch.writeInbound(broadcast(1));
        assertEquals(List.of(new Frame.Ack(1)), outbound(ch));
    }

    @Test
    void worksThroughTheWireCodec() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY), FrameEncoder.INSTANCE,
                new SessionHandler("[client demo/dev-1]", CONNECT, false, HANDSHAKE_MILLIS, dedup, clock, events));
        assertEquals(CONNECT, decode(ch.readOutbound()));
        ByteBuf in = Unpooled.buffer();
        FrameCodec.encode(new Frame.ConnAck(20, NOW), in);
        FrameCodec.encode(push(42, 0), in);
        FrameCodec.encode(push(42, 0), in);
        ch.writeInbound(in);
        assertEquals(1, events.messages.size());
        assertEquals(new Frame.Ack(42), decode(ch.readOutbound()));
        assertEquals(new Frame.Ack(42), decode(ch.readOutbound()));
        ch.finishAndReleaseAll();
    }

    private static Frame decode(ByteBuf buf) {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY));
        decoder.writeInbound(buf);
        return decoder.readInbound();
    }

    private static final class Recorder implements SessionEvents {
        final List<Frame.ConnAck> connAcks = new ArrayList<>();
        final List<Frame.Push> messages = new ArrayList<>();
        final List<Long> duplicates = new ArrayList<>();
        final List<Long> expired = new ArrayList<>();
        final List<SessionEnd> ends = new ArrayList<>();
        final List<Long> acksLostFrom = new ArrayList<>();

        @Override
        public void connected(Channel channel, Frame.ConnAck connAck) {
            connAcks.add(connAck);
        }

        @Override
        public void message(Frame.Push push, long receivedAtNanos) {
            messages.add(push);
        }

        @Override
        public void dropped(long msgId, Drop why) {
            (why == Drop.DUPLICATE ? duplicates : expired).add(msgId);
        }

        @Override
        public void broadcastAcksLost(long fromSeq) {
            acksLostFrom.add(fromSeq);
        }

        @Override
        public void ended(SessionEnd end) {
            ends.add(end);
        }
    }
}
