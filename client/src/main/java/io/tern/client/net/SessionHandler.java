package io.tern.client.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler.ClientHandshakeStateEvent;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.tern.client.internal.RecentIds;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.frame.RetryAfter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The device side of one broker connection, as a state machine over decoded frames:
 * sends CONNECT (on channel active, or once the WebSocket handshake completes), waits for
 * CONNACK within the handshake timeout, then runs the heartbeat: nothing written for {@code heartbeatSeconds} →
 * PING; nothing read for 3x that → close. One timer per connection checks the times of the last read batch and of
 * the last write (not Netty's {@code IdleStateHandler}, which adds a listener to every write's promise: one per
 * ACK at broadcast rates).
 * Every PUSH is acknowledged; new unexpired ones go to {@link SessionEvents#message}, duplicates
 * (by msgId, against the client's {@link RecentIds}) and expired ones are only counted; a
 * broadcast's sequence number is reported either way ({@link SessionEvents#broadcastSeen}),
 * before the message itself.
 * REDIRECT and DISCONNECT decide the {@link NextStep}, reported once through
 * {@link SessionEvents#ended} after the channel closes.
 *
 * <p>Cumulative broadcast acks: when the CONNECT offered them and the CONNACK announced a delay, a broadcast
 * PUSH's ack is held instead of written, and the held ones go out as one ACKS once the broker's
 * {@code maxAcks} are held, at the latest when the delay since the first of them has passed (one
 * {@link HeldAckTimer} for all connections of the event loop), ahead of any other frame written to the connection
 * (PING, PONG, an ACK, SUBSCRIBE, DISCONNECT), and before a close requested through the channel. Single pushes
 * are acked at once. A connection the broker ends (DISCONNECT, REDIRECT) or that breaks loses the held acks (the
 * broker would not read them): reported through {@link SessionEvents#broadcastAcksLost} so the next connection gets
 * those broadcasts again and acks them.
 *
 * <p>Not sharable: one per connection. ACKs and PONGs are flushed once per read batch.
 */
public final class SessionHandler extends ChannelDuplexHandler implements HeldAckTimer.Holder {
    private static final Logger log = LoggerFactory.getLogger(SessionHandler.class);
    /** The broker's idle timeout is about 3x the heartbeat; the client's is the same. */
    public static final int READER_IDLE_HEARTBEATS = 3;
    /** Outbound bytes a non-writable connection may queue before it is given up as stalled. */
    public static final int MAX_PENDING_WRITE_BYTES = 64 * 1024;
    private static final int MAX_DETAIL_CHARS = 200;

    private enum Phase { HANDSHAKE, CONNECTED, ENDED }

    private final String logPrefix;
    private final Frame.Connect connect;
    private final boolean awaitWebSocketHandshake;
    private final long handshakeTimeoutMillis;
    private final RecentIds dedup;
    private final Clock clock;
    private final SessionEvents events;

    private Phase phase = Phase.HANDSHAKE;
    private boolean connectSent;
    private boolean flushPending;
    private ScheduledFuture<?> handshakeTimer;
    /** Set by the first decision (DISCONNECT, REDIRECT, timeout, error); reported on close. */
    private SessionEnd decided;
    private boolean reported;
    /** Most broadcast acks held (the broker's maxAcks); 0: every push is acked on its own. */
    private int maxHeldAcks;
    private long ackDelayMillis;
    /** Broadcast msgIds received and not acked yet; allocated at the first one, as most connections get none. */
    private long[] heldAcks;
    private int heldCount;
    /** The lowest broadcast sequence among the held acks; meaningless while none are held. */
    private long heldFromSeq;
    /** The loop's timer for held acks (set at the first held one) and whether this connection waits in it. */
    private HeldAckTimer ackTimer;
    private boolean ackTimerWaiting;
    private ChannelHandlerContext ctx;
    /** Heartbeat in nanoseconds (0: none, the CONNACK said so) and the times of the last read batch and write. */
    private long heartbeatNanos;
    private long lastReadNanos;
    private long lastWriteNanos;
    private ScheduledFuture<?> idleTimer;

    /**
     * @param awaitWebSocketHandshake send CONNECT on the WebSocket handshake-complete event
     *                                instead of on channel active
     * @param handshakeTimeoutMillis  from channel active to CONNACK (including any WebSocket upgrade)
     */
    public SessionHandler(String logPrefix, Frame.Connect connect, boolean awaitWebSocketHandshake,
                          long handshakeTimeoutMillis, RecentIds dedup, Clock clock, SessionEvents events) {
        this.logPrefix = Objects.requireNonNull(logPrefix, "logPrefix");
        this.connect = Objects.requireNonNull(connect, "connect");
        this.awaitWebSocketHandshake = awaitWebSocketHandshake;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        this.dedup = Objects.requireNonNull(dedup, "dedup");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.events = Objects.requireNonNull(events, "events");
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    public boolean isConnected() {
        return phase == Phase.CONNECTED;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (handshakeTimeoutMillis > 0) {
            handshakeTimer = ctx.executor().schedule(() -> onHandshakeTimeout(ctx),
                    handshakeTimeoutMillis, TimeUnit.MILLISECONDS);
        }
        if (!awaitWebSocketHandshake) {
            sendConnect(ctx);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (decided != null || phase == Phase.ENDED) {
            ReferenceCountUtil.release(msg); // closing: whatever else was in this read is moot
        } else if (msg instanceof Frame) {
            onFrame(ctx, (Frame) msg);
        } else if (msg instanceof DecodeFailure) {
            DecodeFailure f = (DecodeFailure) msg;
            log.warn("{} undecodable input from broker {}: {} ({})", logPrefix, ctx.channel().remoteAddress(),
                    f.reason(), f.detail());
            fail(ctx, f.reason(), f.detail());
        } else {
            ReferenceCountUtil.release(msg);
            log.warn("{} unexpected inbound {}", logPrefix, msg.getClass().getName());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (heartbeatNanos > 0) {
            lastReadNanos = ctx.executor().ticker().nanoTime(); // once a batch: any bytes read count
        }
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
            sendConnect(ctx);
        } else if (evt == ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
            decide(NextStep.NEXT_ADDRESS, ReasonCode.HANDSHAKE_TIMEOUT, "WebSocket upgrade timed out", List.of());
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    /** Held acks go ahead of whatever else is written (SUBSCRIBE, DISCONNECT): one write instead of two. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof Frame) {
            heldAcksFirst(ctx);
        }
        wrote(ctx);
        ctx.write(msg, promise);
    }

    /** A close requested through the channel (the client closing) sends the held acks first. */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (heldCount > 0 && ctx.channel().isActive()) {
            ctx.writeAndFlush(takeHeldAcks(), ctx.voidPromise());
        }
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelHandshakeTimer();
        cancelIdleTimer();
        if (heldCount > 0) {
            heldCount = 0; // the broker reads nothing more on this connection
            events.broadcastAcksLost(heldFromSeq);
        }
        boolean wasConnected = phase == Phase.CONNECTED;
        phase = Phase.ENDED;
        SessionEnd end = decided != null ? decided : wasConnected
                ? new SessionEnd(NextStep.RECONNECT, true, null, "connection closed", List.of(), -1)
                : new SessionEnd(NextStep.NEXT_ADDRESS, false, null, "connection closed during handshake", List.of(), -1);
        if (!reported) {
            reported = true;
            events.ended(end);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            // Peer resets and refused writes are everyday events for a mobile device.
            log.debug("{} connection to {} failed: {}", logPrefix, ctx.channel().remoteAddress(), cause.toString());
        } else if (cause instanceof WebSocketHandshakeException) {
            log.warn("{} WebSocket upgrade refused by {}: {}", logPrefix, ctx.channel().remoteAddress(), cause.getMessage());
        } else {
            log.warn("{} error on connection to {}", logPrefix, ctx.channel().remoteAddress(), cause);
        }
        decide(phase == Phase.CONNECTED ? NextStep.RECONNECT : NextStep.NEXT_ADDRESS, null, cause.toString(), List.of());
        ctx.close();
    }

    private void onFrame(ChannelHandlerContext ctx, Frame frame) {
        switch (frame.type()) {
            case CONNACK:
                onConnAck(ctx, (Frame.ConnAck) frame);
                break;
            case PUSH:
                if (phase != Phase.CONNECTED) {
                    violation(ctx, "PUSH before CONNACK");
                } else {
                    onPush(ctx, (Frame.Push) frame);
                }
                break;
            case PING:
                write(ctx, Frame.Pong.INSTANCE);
                break;
            case PONG:
                break; // reading it is what keeps the reader-idle timer quiet
            case REDIRECT: {
                Frame.Redirect r = (Frame.Redirect) frame;
                log.info("{} broker {} redirects ({}) to {}", logPrefix, ctx.channel().remoteAddress(),
                        r.reason(), r.addresses().isEmpty() ? "the dispatcher" : r.addresses());
                decide(r.addresses().isEmpty() ? NextStep.REDISPATCH : NextStep.REDIRECT, r.reason(),
                        "redirected", r.addresses());
                ctx.close();
                break;
            }
            case DISCONNECT: {
                Frame.Disconnect d = (Frame.Disconnect) frame;
                long retryAfter = RetryAfter.parse(d.message());
                NextStep next = NextStep.afterDisconnect(d.reason(), phase == Phase.CONNECTED, retryAfter);
                log.info("{} broker {} disconnects: {} {} -> {}", logPrefix, ctx.channel().remoteAddress(),
                        d.reason(), d.message(), next);
                decide(next, d.reason(), d.message(), List.of(), retryAfter);
                ctx.close();
                break;
            }
            default:
                violation(ctx, frame.type() + " is not a broker-to-device frame");
        }
    }

    private void onConnAck(ChannelHandlerContext ctx, Frame.ConnAck ack) {
        if (phase != Phase.HANDSHAKE || !connectSent) {
            violation(ctx, "unexpected CONNACK");
            return;
        }
        cancelHandshakeTimer();
        phase = Phase.CONNECTED;
        if (connect.cumulativeAcks() && ack.cumulativeAcks()) {
            maxHeldAcks = ack.maxAcks();
            ackDelayMillis = ack.broadcastAckDelayMs();
        }
        int hb = ack.heartbeatSeconds();
        if (hb > 0) {
            heartbeatNanos = TimeUnit.SECONDS.toNanos(hb);
            lastReadNanos = lastWriteNanos = ctx.executor().ticker().nanoTime();
            scheduleIdleCheck(ctx, heartbeatNanos);
        }
        events.connected(ctx.channel(), ack);
    }

    private void onPush(ChannelHandlerContext ctx, Frame.Push push) {
        long receivedAt = System.nanoTime();
        // The sequence first: whoever the message reaches (the listener, or a thread it wakes)
        // must already see it in lastBroadcastSeq, or an app persisting it there keeps the one before.
        if (push.isBroadcast()) {
            events.broadcastSeen(push.broadcastSeq());
        }
        try {
            if (!dedup.add(push.msgId())) {
                events.dropped(push.msgId(), SessionEvents.Drop.DUPLICATE);
            } else if (push.expiresAtMillis() > 0 && push.expiresAtMillis() <= clock.millis()) {
                events.dropped(push.msgId(), SessionEvents.Drop.EXPIRED);
            } else {
                events.message(push, receivedAt);
            }
        } finally {
            // Ack in every case: the broker stops resending and the receipt is counted.
            if (push.isBroadcast() && maxHeldAcks > 0) {
                holdAck(ctx, push.msgId(), push.broadcastSeq());
            } else {
                write(ctx, new Frame.Ack(push.msgId()));
            }
        }
    }

    /** Holds a broadcast's ack: sent once the broker's maximum is held, or when the first held one's delay is up. */
    private void holdAck(ChannelHandlerContext ctx, long msgId, long broadcastSeq) {
        if (heldAcks == null) {
            heldAcks = new long[maxHeldAcks];
        }
        heldFromSeq = heldCount == 0 ? broadcastSeq : Math.min(heldFromSeq, broadcastSeq);
        heldAcks[heldCount++] = msgId;
        if (heldCount == maxHeldAcks) {
            write(ctx, takeHeldAcks()); // flushed with the rest of this read
        } else if (heldCount == 1 && !ackTimerWaiting) {
            if (ackTimer == null) {
                ackTimer = HeldAckTimer.of(ctx.executor());
            }
            ackTimerWaiting = true;
            ackTimer.add(this, TimeUnit.MILLISECONDS.toNanos(ackDelayMillis));
        }
    }

    /**
     * The delay since this connection joined the loop's timer has passed. Acks held again after the maximum sent
     * the earlier ones ride the same turn, so they go out sooner than the delay, never later.
     */
    @Override
    public void heldAcksDue() {
        ackTimerWaiting = false;
        if (heldCount > 0 && decided == null && ctx.channel().isActive()) {
            write(ctx, takeHeldAcks());
            flushNow(ctx);
        }
    }

    /** Writes the held acks, if any, ahead of a frame about to be written: the broker reads them first. */
    private void heldAcksFirst(ChannelHandlerContext ctx) {
        if (heldCount > 0) {
            ctx.write(takeHeldAcks(), ctx.voidPromise());
        }
    }

    /** The held acks as one ACKS; none are held afterwards. */
    private Frame.Acks takeHeldAcks() {
        Frame.Acks acks = new Frame.Acks(Arrays.copyOf(heldAcks, heldCount));
        heldCount = 0;
        return acks;
    }

    private void flushNow(ChannelHandlerContext ctx) {
        flushPending = false;
        ctx.flush();
    }

    private void scheduleIdleCheck(ChannelHandlerContext ctx, long delayNanos) {
        idleTimer = ctx.executor().schedule(() -> onIdleCheck(ctx), Math.max(1, delayNanos), TimeUnit.NANOSECONDS);
    }

    /** Reader idle for 3 heartbeats closes; writer idle for one sends a PING; then checks again when one could be due. */
    private void onIdleCheck(ChannelHandlerContext ctx) {
        idleTimer = null;
        if (phase != Phase.CONNECTED || decided != null || !ctx.channel().isActive()) {
            return;
        }
        long now = ctx.executor().ticker().nanoTime();
        long readerIdleNanos = READER_IDLE_HEARTBEATS * heartbeatNanos;
        if (now - lastReadNanos >= readerIdleNanos) {
            log.info("{} nothing from broker {} for {} heartbeats; reconnecting", logPrefix,
                    ctx.channel().remoteAddress(), READER_IDLE_HEARTBEATS);
            decide(NextStep.RECONNECT, ReasonCode.IDLE_TIMEOUT, "no frame from broker", List.of());
            ctx.close();
            return;
        }
        if (now - lastWriteNanos >= heartbeatNanos) {
            write(ctx, Frame.Ping.INSTANCE);
            flushNow(ctx);
            if (decided != null) {
                return; // the write gave the connection up
            }
        }
        scheduleIdleCheck(ctx, Math.min(lastReadNanos + readerIdleNanos, lastWriteNanos + heartbeatNanos) - now);
    }

    /** A write queued now: the writer-idle time counts from here (Netty's counted from the write's completion). */
    private void wrote(ChannelHandlerContext ctx) {
        if (heartbeatNanos > 0) {
            lastWriteNanos = ctx.executor().ticker().nanoTime();
        }
    }

    private void cancelIdleTimer() {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
    }

    private void onHandshakeTimeout(ChannelHandlerContext ctx) {
        if (phase == Phase.HANDSHAKE && ctx.channel().isActive()) {
            log.debug("{} no CONNACK from {} within {} ms", logPrefix, ctx.channel().remoteAddress(),
                    handshakeTimeoutMillis);
            decide(NextStep.NEXT_ADDRESS, ReasonCode.HANDSHAKE_TIMEOUT, "no CONNACK in " + handshakeTimeoutMillis + " ms",
                    List.of());
            ctx.close();
        }
    }

    private void sendConnect(ChannelHandlerContext ctx) {
        if (connectSent || phase != Phase.HANDSHAKE) {
            return;
        }
        connectSent = true;
        ctx.writeAndFlush(connect).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    /**
     * Writes a small control frame, after any held acks; a connection that stopped reading is abandoned instead of
     * queueing without bound.
     */
    private void write(ChannelHandlerContext ctx, Frame frame) {
        Channel ch = ctx.channel();
        if (!ch.isWritable()) {
            ChannelOutboundBuffer buffer = ch.unsafe().outboundBuffer();
            long pending = buffer == null ? 0 : buffer.totalPendingWriteBytes();
            if (pending > MAX_PENDING_WRITE_BYTES) {
                log.info("{} broker {} stopped reading ({} bytes queued); reconnecting", logPrefix,
                        ch.remoteAddress(), pending);
                decide(NextStep.RECONNECT, null, "broker stopped reading", List.of());
                ctx.close();
                return;
            }
        }
        heldAcksFirst(ctx); // none when the frame is the held acks themselves: taking them emptied the array
        wrote(ctx);
        ctx.write(frame, ctx.voidPromise());
        flushPending = true;
    }

    private void violation(ChannelHandlerContext ctx, String detail) {
        log.warn("{} protocol violation by broker {}: {}", logPrefix, ctx.channel().remoteAddress(), detail);
        fail(ctx, ReasonCode.PROTOCOL_VIOLATION, detail);
    }

    /** Tells the broker why, then closes; the next step depends on whether the session was live. */
    private void fail(ChannelHandlerContext ctx, ReasonCode reason, String detail) {
        decide(phase == Phase.CONNECTED ? NextStep.RECONNECT : NextStep.NEXT_ADDRESS, reason, detail, List.of());
        if (ctx.channel().isActive()) {
            heldAcksFirst(ctx); // the broker reads what precedes DISCONNECT
            ctx.writeAndFlush(new Frame.Disconnect(reason, truncate(detail))).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }

    /** The first decision wins: a DISCONNECT followed by an I/O error is still that DISCONNECT. */
    private void decide(NextStep next, ReasonCode reason, String detail, List<String> redirectTo) {
        decide(next, reason, detail, redirectTo, -1);
    }

    private void decide(NextStep next, ReasonCode reason, String detail, List<String> redirectTo, long retryAfterMillis) {
        if (decided == null) {
            decided = new SessionEnd(next, phase == Phase.CONNECTED, reason, detail, redirectTo, retryAfterMillis);
        }
    }

    private void cancelHandshakeTimer() {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
            handshakeTimer = null;
        }
    }

    private static String truncate(String s) {
        return s == null || s.length() <= MAX_DETAIL_CHARS ? s : s.substring(0, MAX_DETAIL_CHARS);
    }
}
