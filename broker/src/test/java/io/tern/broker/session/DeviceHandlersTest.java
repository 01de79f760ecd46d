package io.tern.broker.session;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.net.Pipelines;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.token.ConnectToken;
import io.tern.protocol.token.ConnectTokenSigner;
import io.tern.store.topic.AckRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device handlers on EmbeddedChannels: no sockets, frames in and out as objects. */
class DeviceHandlersTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final ConnectTokenSigner SIGNER =
            new ConnectTokenSigner("unit-test-secret-0123456789".getBytes(StandardCharsets.UTF_8));

    private final List<Session> opened = new ArrayList<>();
    private final List<Session> closed = new ArrayList<>();
    private final List<AckRecord> acks = new ArrayList<>();
    private final List<Long> lastBroadcastSeqs = new ArrayList<>();
    private final List<String> tags = new ArrayList<>();
    private SimpleMeterRegistry registry;
    private DeviceServices services;
    private Sessions sessions;
    private SessionLifecycle lifecycle;
    private TagSink tagSink;
    private BrokerMetrics metrics;
    private final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);
    private final java.util.concurrent.atomic.AtomicBoolean failedOver = new java.util.concurrent.atomic.AtomicBoolean();
    private final ConnectStatsTracker connectStats = new ConnectStatsTracker(64, Duration.ofSeconds(5), nanos::get);

    @BeforeEach
    void setUp() {
        registry = new SimpleMeterRegistry();
        BrokerMetrics metrics = new BrokerMetrics(registry);
        sessions = new Sessions("b1", NOW, 16);
        SessionLifecycle lifecycle = new SessionLifecycle() {
            @Override
            public void opened(Session session, long lastBroadcastSeq) {
                opened.add(session);
                lastBroadcastSeqs.add(lastBroadcastSeq);
            }

            @Override
            public void closed(Session session) {
                closed.add(session);
            }
        };
        TagSink tagSink = new TagSink() {
            @Override
            public void subscribe(Session session, List<String> list) {
                tags.add("+" + session.regId() + ":" + list);
            }

            @Override
            public void unsubscribe(Session session, List<String> list) {
                tags.add("-" + session.regId() + ":" + list);
            }
        };
        this.lifecycle = lifecycle;
        this.tagSink = tagSink;
        this.metrics = metrics;
        services = services(new AdmissionLimiter(0, 1, Duration.ofSeconds(1), nanos::get));
    }

    private DeviceServices services(AdmissionLimiter admission) {
        return new DeviceServices("b1", sessions, lifecycle, acks::add, tagSink, SIGNER,
                new Disconnects(metrics, Duration.ofSeconds(1)), new ConnectionLimiter(10), metrics, 30,
                Duration.ofSeconds(10), () -> NOW, new FailedHandshakeLimiter(5, 20, 100, System::nanoTime), 16,
                admission, connectStats, failedOver::get, 50, 8);
    }

    private EmbeddedChannel device(boolean busy) {
        return new EmbeddedChannel(new AuthHandler(services, false, busy));
    }

    private static String token(String app, String reg, long expiresAt) {
        return SIGNER.sign(new ConnectToken(app, reg, "local", expiresAt));
    }

    private EmbeddedChannel authenticated(String app, String reg) {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect(app, reg, token(app, reg, NOW + 60_000), 0));
        assertInstanceOf(Frame.ConnAck.class, ch.readOutbound());
        return ch;
    }

    private static void assertDisconnected(EmbeddedChannel ch, ReasonCode reason) {
        Frame.Disconnect d = assertInstanceOf(Frame.Disconnect.class, ch.readOutbound());
        assertEquals(reason, d.reason(), d.toString());
        assertFalse(ch.isOpen(), "closed after DISCONNECT");
    }

    private double authFailures(ReasonCode reason) {
        var c = registry.find("tern.broker.auth.failures").tag("reason", reason.name().toLowerCase()).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void validConnectIsAnsweredWithConnAckAndTheAuthHandlerLeaves() {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        Frame.ConnAck ack = assertInstanceOf(Frame.ConnAck.class, ch.readOutbound());
        assertEquals(30, ack.heartbeatSeconds());
        assertEquals(NOW, ack.serverTimeMillis());
        assertNull(ch.pipeline().get(AuthHandler.class), "auth handler removed after success");
        assertSame(sessions.find("app", "r1"), ch.pipeline().get(SessionHandler.class).session());
        Session s = sessions.find("app", "r1");
        assertSame(ch, s.channel());
        assertEquals("b1", s.route().brokerId());
        assertEquals(List.of(s), opened);
    }

    @Test
    void everyConnectionGetsItsOwnEpoch() {
        EmbeddedChannel a = authenticated("app", "r1");
        EmbeddedChannel b = authenticated("app", "r2");
        assertNotEquals(Session.of(a).route().epoch(), Session.of(b).route().epoch());
    }

    @Test
    void forgedTokenIsTokenInvalid() {
        String forged = new ConnectTokenSigner("some-other-secret-0123456789".getBytes(StandardCharsets.UTF_8))
                .sign(new ConnectToken("app", "r1", "local", NOW + 60_000));
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect("app", "r1", forged, 0));
        assertDisconnected(ch, ReasonCode.TOKEN_INVALID);
        assertEquals(1.0, authFailures(ReasonCode.TOKEN_INVALID));
        assertEquals(0, sessions.size());
    }

    @Test
    void expiredTokenIsTokenExpired() {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect("app", "r1", token("app", "r1", NOW), 0));
        assertDisconnected(ch, ReasonCode.TOKEN_EXPIRED);
        assertEquals(1.0, authFailures(ReasonCode.TOKEN_EXPIRED));
    }

    @Test
    void tokenOfAnotherAppOrDeviceIsTokenInvalid() {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect("app", "r1", token("app", "r2", NOW + 60_000), 0));
        assertDisconnected(ch, ReasonCode.TOKEN_INVALID);
        EmbeddedChannel other = device(false);
        other.writeInbound(new Frame.Connect("app", "r1", token("other-app", "r1", NOW + 60_000), 0));
        assertDisconnected(other, ReasonCode.TOKEN_INVALID);
    }

    @Test
    void anyOtherFrameBeforeConnectIsAProtocolViolation() {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(Frame.Ping.INSTANCE, new Frame.Ack(1));
        assertDisconnected(ch, ReasonCode.PROTOCOL_VIOLATION);
        assertNull(ch.readOutbound(), "one DISCONNECT only");
    }

    @Test
    void noConnectWithinTheHandshakeTimeoutIsHandshakeTimeout() {
        EmbeddedChannel ch = device(false);
        ch.advanceTimeBy(9, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isOpen());
        ch.advanceTimeBy(2, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertDisconnected(ch, ReasonCode.HANDSHAKE_TIMEOUT);
    }

    @Test
    void anAuthenticatedConnectionHasNoHandshakeTimer() {
        EmbeddedChannel ch = authenticated("app", "r1");
        ch.advanceTimeBy(11, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isOpen());
        assertNull(ch.readOutbound());
    }

    @Test
    void connectsBeyondTheAdmissionBurstAreRefusedServerBusyWithAJitteredRetryHintUntilTokensComeBack() {
        services = services(new AdmissionLimiter(10, 2, Duration.ofMillis(1000), nanos::get));
        authenticated("app", "r1");
        authenticated("app", "r2");
        EmbeddedChannel third = device(false);
        third.writeInbound(new Frame.Connect("app", "r3", token("app", "r3", NOW + 60_000), 0));
        Frame.Disconnect busy = assertInstanceOf(Frame.Disconnect.class, third.readOutbound());
        assertEquals(ReasonCode.SERVER_BUSY, busy.reason());
        long hint = io.tern.protocol.frame.RetryAfter.parse(busy.message());
        assertTrue(hint >= 1000 && hint < 2000, "hint in [1000, 2000) ms: " + busy.message());
        assertTrue(busy.message().startsWith("admission limit; retry-after-ms="), busy.message());
        assertFalse(third.isOpen());
        assertNull(sessions.find("app", "r3"), "a refused device gets no session");
        assertEquals(1.0, registry.get("tern.broker.admissions.refused").counter().count());
        assertEquals(0.0, authFailures(ReasonCode.SERVER_BUSY), "an admission refusal is not an auth failure");

        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(100)); // one token at 10/s
        authenticated("app", "r3");
        var stats = connectStats.snapshot(10);
        assertEquals(3, stats.admitted());
        assertEquals(1, stats.refused());
        assertEquals(0, stats.failed());
        assertEquals(10, stats.admissionPerSecond());
    }

    @Test
    void aConnectToABrokerWhoseRegionIsFailedOverIsRefusedRegionMoved() {
        failedOver.set(true);
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        assertDisconnected(ch, ReasonCode.REGION_MOVED);
        assertNull(sessions.find("app", "r1"));
        failedOver.set(false);
        authenticated("app", "r1");
    }

    @Test
    void aSessionKeepsItsTokensHomeRegionSharedAndCountedUntilItCloses() {
        EmbeddedChannel a = device(false);
        a.writeInbound(new Frame.Connect("app", "r1", SIGNER.sign(new ConnectToken("app", "r1", new String("north"),
                NOW + 60_000)), 0));
        assertInstanceOf(Frame.ConnAck.class, a.readOutbound());
        EmbeddedChannel b = device(false);
        b.writeInbound(new Frame.Connect("app", "r2", SIGNER.sign(new ConnectToken("app", "r2", new String("north"),
                NOW + 60_000)), 0));
        assertInstanceOf(Frame.ConnAck.class, b.readOutbound());
        Session one = sessions.find("app", "r1");
        Session two = sessions.find("app", "r2");
        assertEquals("north", one.home());
        assertSame(one.home(), two.home(), "one string per home region, not one per session");
        assertEquals(java.util.Map.of("north", 2), sessions.homes().snapshot());
        a.close();
        assertEquals(java.util.Map.of("north", 1), sessions.homes().snapshot());
    }

    @Test
    void failedHandshakesAreCountedInTheConnectStats() {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect("app", "r1", "not-a-token", 0));
        assertDisconnected(ch, ReasonCode.TOKEN_INVALID);
        assertEquals(1, connectStats.snapshot(0).failed());
        assertEquals(0, connectStats.snapshot(0).admitted());
    }

    @Test
    void aBusyTcpConnectionIsRefusedAtOnce() {
        EmbeddedChannel ch = device(true);
        assertDisconnected(ch, ReasonCode.SERVER_BUSY);
    }

    @Test
    void aBusyWebSocketConnectionIsRefusedOnceTheUpgradeIsDone() {
        EmbeddedChannel ch = new EmbeddedChannel(new AuthHandler(services, true, true));
        assertNull(ch.readOutbound(), "no frame before the WebSocket handshake");
        HttpHeaders none = new DefaultHttpHeaders();
        ch.pipeline().fireUserEventTriggered(new WebSocketServerProtocolHandler.HandshakeComplete("/v1/ws", none, "tern.v1"));
        assertDisconnected(ch, ReasonCode.SERVER_BUSY);
    }

    @Test
    void aWebSocketThatNeverUpgradesIsClosedWithoutAFrame() {
        EmbeddedChannel ch = new EmbeddedChannel(new AuthHandler(services, true, false));
        ch.advanceTimeBy(11, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertNull(ch.readOutbound(), "no frame while the connection still speaks HTTP");
        assertFalse(ch.isOpen());
    }

    @Test
    void connectWhileShuttingDownIsRefused() {
        sessions.shutDown();
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        assertDisconnected(ch, ReasonCode.SERVER_SHUTTING_DOWN);
    }

    @Test
    void pingIsAnsweredWithPong() {
        EmbeddedChannel ch = authenticated("app", "r1");
        ch.writeInbound(Frame.Ping.INSTANCE);
        assertEquals(Frame.Pong.INSTANCE, ch.readOutbound());
    }

    @Test
    void ackGoesToTheAckSinkWithTheSessionsIds() {
        EmbeddedChannel ch = authenticated("app", "r1");
        writePush(ch, 77);
        ch.writeInbound(new Frame.Ack(77));
        assertEquals(List.of(new AckRecord("app", "r1", 77, NOW, "b1")), acks);
        assertEquals(1.0, registry.get("tern.broker.acks.received").counter().count());
    }

    @Test
    void anAckOfAMsgIdNeverWrittenToThisConnectionIsIgnored() {
        EmbeddedChannel ch = authenticated("app", "r1");
        writePush(ch, 77);
        ch.writeInbound(new Frame.Ack(78)); // e.g. another device's message
        assertEquals(List.of(), acks);
        assertEquals(1.0, registry.get("tern.broker.acks.unknown").counter().count());
        assertTrue(ch.isOpen(), "a stray ack is not a protocol error");
    }

    @Test
    void aSecondAckOfTheSameMessageIsIgnored() {
        EmbeddedChannel ch = authenticated("app", "r1");
        writePush(ch, 77);
        ch.writeInbound(new Frame.Ack(77), new Frame.Ack(77));
        assertEquals(List.of(new AckRecord("app", "r1", 77, NOW, "b1")), acks);
        assertEquals(1.0, registry.get("tern.broker.acks.unknown").counter().count());
    }

    @Test
    void aPushWrittenAsEncodedBytesCountsLikeAFrame() {
        EmbeddedChannel ch = authenticated("app", "r1");
        Frame.Push push = new Frame.Push(91, NOW + 60_000, PayloadKind.DATA, new byte[]{'{', '}'});
        ch.writeOutbound(FrameCodec.encode(push, ch.alloc())); // as PUSH_BATCH writes it
        ((ByteBuf) ch.readOutbound()).release();
        ch.writeInbound(new Frame.Ack(91));
        assertEquals(List.of(new AckRecord("app", "r1", 91, NOW, "b1")), acks);
    }

    @Test
    void anAckOnAnotherConnectionOfTheSameDeviceDoesNotCount() {
        EmbeddedChannel first = authenticated("app", "r1");
        writePush(first, 77);
        EmbeddedChannel second = authenticated("app", "r1"); // replaces the first
        second.writeInbound(new Frame.Ack(77));
        assertEquals(List.of(), acks);
    }

    @Test
    void theOldestOutstandingMsgIdIsForgottenBeyondTheLimit() {
        EmbeddedChannel ch = authenticated("app", "r1");
        for (long id = 1; id <= 17; id++) { // the limit here is 16
            writePush(ch, id);
        }
        ch.writeInbound(new Frame.Ack(1), new Frame.Ack(2), new Frame.Ack(17));
        assertEquals(List.of(2L, 17L), acks.stream().map(AckRecord::msgId).toList());
        assertEquals(1.0, registry.get("tern.broker.acks.untracked").counter().count());
    }

    private static void writePush(EmbeddedChannel ch, long msgId) {
        ch.writeOutbound(new Frame.Push(msgId, NOW + 60_000, PayloadKind.DATA, new byte[]{'{', '}'}));
        Object out;
        while ((out = ch.readOutbound()) != null) {
            ReferenceCountUtil.release(out);
        }
    }

    @Test
    void aSecondConnectAfterAuthenticationIsAProtocolViolation() {
        EmbeddedChannel ch = authenticated("app", "r1");
        ch.writeInbound(new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        assertDisconnected(ch, ReasonCode.PROTOCOL_VIOLATION);
    }

    @Test
    void aSessionSilentForAWholeIdleTimeoutOfSweepsIsDisconnectedIdle() {
        EmbeddedChannel ch = authenticated("app", "r1");
        IdleSweeper sweeper = new IdleSweeper(sessions.apps(), Duration.ofSeconds(90));
        sweeper.sweep(ch.eventLoop()); // the CONNECT counts as a read
        for (int i = 1; i < IdleSweeper.SWEEPS_PER_TIMEOUT; i++) {
            sweeper.sweep(ch.eventLoop());
            assertNull(ch.readOutbound(), "not idle yet after " + i + " quiet sweeps");
        }
        sweeper.sweep(ch.eventLoop());
        assertDisconnected(ch, ReasonCode.IDLE_TIMEOUT);
    }

    @Test
    void aFrameBetweenSweepsKeepsTheSessionOpen() {
        EmbeddedChannel ch = authenticated("app", "r1");
        IdleSweeper sweeper = new IdleSweeper(sessions.apps(), Duration.ofSeconds(90));
        for (int i = 0; i < 3 * IdleSweeper.SWEEPS_PER_TIMEOUT; i++) {
            if (i % (IdleSweeper.SWEEPS_PER_TIMEOUT - 1) == 0) {
                ch.writeInbound(Frame.Ping.INSTANCE);
                assertEquals(Frame.Pong.INSTANCE, ch.readOutbound());
            }
            sweeper.sweep(ch.eventLoop());
        }
        assertNull(ch.readOutbound());
        assertTrue(ch.isOpen());
    }

    @Test
    void theSweepDropsTheUnackedArrayOfAConnectionNoLongerWrittenTo() {
        EmbeddedChannel ch = authenticated("app", "r1");
        IdleSweeper sweeper = new IdleSweeper(sessions.apps(), Duration.ofSeconds(90));
        writePush(ch, 77);
        ch.writeInbound(new Frame.Ack(77));
        Session s = Session.of(ch);
        sweeper.sweep(ch.eventLoop());
        assertTrue(s.holdsUnacked(), "written since the last sweep: kept for the next push");
        sweeper.sweep(ch.eventLoop());
        assertFalse(s.holdsUnacked(), "quiet for a sweep with nothing outstanding");
        writePush(ch, 78);
        ch.writeInbound(new Frame.Ack(78));
        assertEquals(List.of(77L, 78L), acks.stream().map(AckRecord::msgId).toList());
    }

    @Test
    void idleEventIsIdleTimeout() {
        EmbeddedChannel ch = authenticated("app", "r1");
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);
        assertDisconnected(ch, ReasonCode.IDLE_TIMEOUT);
    }

    @Test
    void decodeFailureBeforeAuthenticationIsAnsweredWithItsReason() {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new DecodeFailure(ReasonCode.UNSUPPORTED_VERSION, "version 71"));
        assertDisconnected(ch, ReasonCode.UNSUPPORTED_VERSION);
    }

    @Test
    void decodeFailureIsAnsweredWithItsReason() {
        EmbeddedChannel ch = authenticated("app", "r1");
        ch.writeInbound(new DecodeFailure(ReasonCode.FRAME_TOO_LARGE, "body 9000 bytes, max 8192"));
        Frame.Disconnect d = assertInstanceOf(Frame.Disconnect.class, ch.readOutbound());
        assertEquals(ReasonCode.FRAME_TOO_LARGE, d.reason());
        assertEquals("body 9000 bytes, max 8192", d.message());
        assertFalse(ch.isOpen());
    }

    @Test
    void closingRemovesTheSessionAndForgetsTheRoute() {
        EmbeddedChannel ch = authenticated("app", "r1");
        Session s = Session.of(ch);
        ch.close();
        assertNull(sessions.find("app", "r1"));
        assertEquals(List.of(s), closed);
    }

    @Test
    void aSecondConnectionReplacesTheFirstWhoseCloseKeepsTheSecond() {
        EmbeddedChannel first = authenticated("app", "r1");
        EmbeddedChannel second = authenticated("app", "r1");
        assertDisconnected(first, ReasonCode.SESSION_REPLACED);
        Session current = sessions.find("app", "r1");
        assertSame(second, current.channel());
        // The first's close ran (it is closed): it neither removed the second nor asked to delete a route.
        assertEquals(List.of(), closed);
        assertEquals(1, sessions.size());
        second.close();
        assertEquals(List.of(current), closed);
        assertEquals(0, sessions.size());
    }

    @Test
    void subscribeAndUnsubscribeGoToTheTagSink() {
        EmbeddedChannel ch = authenticated("app", "r1");
        ch.writeInbound(new Frame.Subscribe(List.of("news", "city:berlin")));
        ch.writeInbound(new Frame.Unsubscribe(List.of("news")));
        assertEquals(List.of("+r1:[news, city:berlin]", "-r1:[news]"), tags);
        assertNull(ch.readOutbound(), "no reply");
        assertTrue(ch.isOpen());
    }

    @Test
    void subscribeBeforeConnectIsAProtocolViolation() {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Subscribe(List.of("news")));
        assertDisconnected(ch, ReasonCode.PROTOCOL_VIOLATION);
        assertEquals(List.of(), tags);
    }

    @Test
    void theConnectsLastBroadcastSeqReachesTheLifecycle() {
        EmbeddedChannel ch = device(false);
        ch.writeInbound(new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 41));
        assertInstanceOf(Frame.ConnAck.class, ch.readOutbound());
        assertEquals(List.of(41L), lastBroadcastSeqs);
    }

    @Test
    void theAppIndexHoldsOpenSessionsOnlyReplacedOnesLeaveOnClose() {
        EmbeddedChannel a = authenticated("app", "r1");
        EmbeddedChannel b = authenticated("other", "r1");
        assertEquals(List.of(Session.of(a)), indexed(a, "app"));
        assertEquals(List.of(Session.of(b)), indexed(b, "other"));
        assertEquals(List.of(), indexed(a, "other"));

        EmbeddedChannel a2 = authenticated("app", "r1"); // replaces a
        assertFalse(a.isOpen());
        assertEquals(List.of(), indexed(a, "app"), "the replaced connection left the index when it closed");
        assertEquals(List.of(Session.of(a2)), indexed(a2, "app"));
        a2.close();
        assertEquals(List.of(), indexed(a2, "app"));
    }

    /** The app's sessions on {@code ch}'s event loop (every EmbeddedChannel has its own). */
    private List<Session> indexed(EmbeddedChannel ch, String app) {
        for (LocalApps.PerLoop l : sessions.apps().loops()) {
            if (l.loop() == ch.eventLoop()) {
                return List.of(l.snapshot(app));
            }
        }
        return List.of();
    }

    // The assembled device pipeline: frame counting and error handling have no handlers of their own there.

    private EmbeddedChannel tcpPipeline() {
        Pipelines pipelines = new Pipelines(services, null, FrameHeader.DEFAULT_MAX_BODY, null, null, null,
                Duration.ofSeconds(5));
        return new EmbeddedChannel(pipelines.tcp());
    }

    private static void send(EmbeddedChannel ch, Frame frame) {
        ch.writeInbound(FrameCodec.encode(frame, ch.alloc()));
    }

    /** Every frame the pipeline wrote, decoded from its bytes. */
    private static List<Frame> sent(EmbeddedChannel ch) {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY));
        for (Object o; (o = ch.readOutbound()) != null; ) {
            decoder.writeInbound(o);
        }
        List<Frame> frames = new ArrayList<>();
        for (Object f; (f = decoder.readInbound()) != null; ) {
            frames.add((Frame) f);
        }
        return frames;
    }

    private double frames(String direction, String listener, FrameType type) {
        return registry.get("tern.broker.frames." + direction).tag("listener", listener)
                .tag("type", type.name().toLowerCase()).counter().count();
    }

    @Test
    void theTcpPipelineCountsFramesInAndOutByListenerAndType() {
        EmbeddedChannel ch = tcpPipeline();
        send(ch, new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        send(ch, Frame.Ping.INSTANCE);
        send(ch, Frame.Ping.INSTANCE);
        List<Frame> out = sent(ch);
        assertInstanceOf(Frame.ConnAck.class, out.get(0));
        assertEquals(List.of(Frame.Pong.INSTANCE, Frame.Pong.INSTANCE), out.subList(1, out.size()));
        assertEquals(1, frames("in", "tcp", FrameType.CONNECT));
        assertEquals(2, frames("in", "tcp", FrameType.PING));
        assertEquals(1, frames("out", "tcp", FrameType.CONNACK));
        assertEquals(2, frames("out", "tcp", FrameType.PONG));
        assertEquals(0, frames("in", "ws", FrameType.PING));
    }

    @Test
    void aWebSocketSessionCountsItsFramesUnderWs() {
        EmbeddedChannel ch = new EmbeddedChannel(new AuthHandler(services, true, false));
        HttpHeaders none = new DefaultHttpHeaders();
        ch.pipeline().fireUserEventTriggered(new WebSocketServerProtocolHandler.HandshakeComplete("/v1/ws", none, "tern.v1"));
        ch.writeInbound(new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        ch.writeInbound(Frame.Ping.INSTANCE);
        assertEquals(1, frames("in", "ws", FrameType.CONNECT));
        assertEquals(1, frames("in", "ws", FrameType.PING));
        assertEquals(0, frames("in", "tcp", FrameType.PING));
    }

    @Test
    void alreadyEncodedFramesPassTheCodecUncountedAsBefore() {
        EmbeddedChannel ch = tcpPipeline();
        send(ch, new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        Frame.Push push = new Frame.Push(7, 0, PayloadKind.DATA, "{}".getBytes(StandardCharsets.UTF_8));
        ch.writeOutbound(FrameCodec.encode(push, ch.alloc())); // as PUSH_BATCH writes it
        List<Frame> out = sent(ch);
        assertEquals(7, assertInstanceOf(Frame.Push.class, out.get(1)).msgId());
        assertEquals(0, frames("out", "tcp", FrameType.PUSH));
        assertEquals(1, frames("out", "tcp", FrameType.CONNACK));
    }

    @Test
    void theTcpPipelineAnswersMalformedBytesWithTheDecodersReasonBeforeAndAfterConnect() {
        EmbeddedChannel before = tcpPipeline();
        // version 1, CONNECT, no flags, body length 65536: refused on the header alone
        before.writeInbound(Unpooled.wrappedBuffer(new byte[]{1, 0x01, 0, 0, 0, 1, 0, 0}));
        Frame.Disconnect d = assertInstanceOf(Frame.Disconnect.class, sent(before).get(0));
        assertEquals(ReasonCode.FRAME_TOO_LARGE, d.reason());
        assertFalse(before.isOpen());

        EmbeddedChannel after = tcpPipeline();
        send(after, new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        after.writeInbound(Unpooled.wrappedBuffer("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        List<Frame> out = sent(after);
        assertInstanceOf(Frame.ConnAck.class, out.get(0));
        assertEquals(ReasonCode.UNSUPPORTED_VERSION, assertInstanceOf(Frame.Disconnect.class, out.get(1)).reason());
        assertFalse(after.isOpen());
    }

    @Test
    void anExceptionInTheTcpPipelineClosesTheConnectionBeforeAndAfterConnect() {
        EmbeddedChannel before = tcpPipeline();
        before.pipeline().fireExceptionCaught(new IllegalStateException("test: a handler failed"));
        assertFalse(before.isOpen());

        EmbeddedChannel after = tcpPipeline();
        send(after, new Frame.Connect("app", "r1", token("app", "r1", NOW + 60_000), 0));
        assertTrue(after.isOpen());
        after.pipeline().fireExceptionCaught(new IllegalStateException("test: a handler failed"));
        assertFalse(after.isOpen());
        assertNull(sessions.find("app", "r1"), "the session left with the connection");
    }
}
