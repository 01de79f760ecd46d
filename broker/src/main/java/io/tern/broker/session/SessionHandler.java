package io.tern.broker.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.topic.AckRecord;

import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An authenticated device's frames: PING → PONG, ACK (and each msgId of an ACKS) → the ack queue,
 * SUBSCRIBE / UNSUBSCRIBE → the tag store (asynchronously), DISCONNECT → close; the
 * idle event → DISCONNECT(IDLE_TIMEOUT); and on close, the session leaves the connection map
 * (and its route the store). Put in place of the {@link AuthHandler} once the device is
 * authenticated; it holds the session itself, so a connection needs no channel attribute.
 * <p>
 * It also sees the PUSHes written to the connection through the pipeline (single pushes,
 * batches, queued messages, catch-up; broadcasts record theirs in the broadcaster) and keeps
 * their msgIds until acked: an ACK of a msgId this connection was not written, or already
 * acked, is counted and ignored, so a device cannot ack other devices' messages.
 * <p>
 * Last in the pipeline, it also counts the frames in and ends the pipeline ({@link PeerErrors}:
 * malformed input, exceptions), as the {@link AuthHandler} did before it.
 */
public final class SessionHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(SessionHandler.class);

    private final DeviceServices services;
    private final Session session;
    /**
     * Acks the sink had no room for, in order; while any wait the connection is not read. Bounded by what one read
     * had already decoded when reading stopped (an ACKS adds at most max-acks-per-frame). Null while none wait: an
     * empty deque is ~110 B on every idle connection (docs/benchmarks.md, memory per idle connection).
     */
    private ArrayDeque<AckRecord> waitingAcks;
    private ChannelHandlerContext ctx;

    SessionHandler(DeviceServices services, Session session) {
        this.services = services;
        this.session = session;
    }

    Session session() {
        return session;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        session.readSinceSweep = true; // not idle (IdleSweeper)
        if (!(msg instanceof Frame frame)) {
            PeerErrors.unhandled(ctx, msg, services.brokerId(), listener(), services.disconnects());
            return;
        }
        services.metrics().frameIn(listener(), frame.type());
        if (session.closing()) {
            return; // a DISCONNECT is on its way; later frames of the same read are dropped
        }
        switch (frame.type()) {
            case PING -> ctx.writeAndFlush(Frame.Pong.INSTANCE);
            case ACK -> ack(((Frame.Ack) frame).msgId());
            case ACKS -> acks(((Frame.Acks) frame).msgIds());
            case SUBSCRIBE -> services.tags().subscribe(session, ((Frame.Subscribe) frame).tags());
            case UNSUBSCRIBE -> services.tags().unsubscribe(session, ((Frame.Unsubscribe) frame).tags());
            case DISCONNECT -> {
                log.debug("[broker {} app={} reg={}] device disconnected: {}", services.brokerId(), session.appId(),
                        session.regId(), ((Frame.Disconnect) frame).reason());
                ctx.close();
            }
            default -> services.disconnects().send(session, ReasonCode.PROTOCOL_VIOLATION,
                    frame.type() + " is not a frame a device may send after CONNECT");
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        long msgId;
        if (msg instanceof Frame.Push p) {
            msgId = p.msgId();
        } else if (msg instanceof ByteBuf b && isPush(b)) {
            msgId = b.getLong(b.readerIndex() + FrameHeader.SIZE); // a PUSH body starts with its msgId
        } else {
            ctx.write(msg, promise);
            return;
        }
        if (session.wrote(msgId, services.maxUnacked())) {
            services.metrics().ackUntracked();
        }
        ctx.write(msg, promise);
    }

    /** An encoded PUSH frame (batches write the bytes encoded once). */
    private static boolean isPush(ByteBuf b) {
        return b.readableBytes() >= FrameHeader.SIZE + 8 && b.getUnsignedByte(b.readerIndex() + 1) == FrameType.PUSH.code();
    }

    /**
     * Each msgId as if it came in its own ACK, so the same rules hold (only msgIds written here count, once).
     * Longer than the CONNACK allowed: the device ignored what it was told.
     */
    private void acks(long[] msgIds) {
        if (msgIds.length > services.maxAcksPerFrame()) {
            services.disconnects().send(session, ReasonCode.PROTOCOL_VIOLATION,
                    "ACKS lists " + msgIds.length + " msgIds, max " + services.maxAcksPerFrame());
            return;
        }
        for (long msgId : msgIds) {
            ack(msgId);
        }
    }

    private void ack(long msgId) {
        services.metrics().ackReceived();
        if (!session.acked(msgId)) {
            services.metrics().ackUnknown();
            return;
        }
        services.lifecycle().acked(session, msgId);
        if (services.acks().countBroadcast(msgId, session.deviceHash())) {
            return;
        }
        AckRecord record = new AckRecord(session.appId(), session.regId(), msgId, services.clock().getAsLong(),
                services.brokerId());
        if (waitingAcks != null) {
            waitingAcks.add(record);
        } else if (!services.acks().offer(record)) {
            waitingAcks = new ArrayDeque<>();
            waitingAcks.add(record);
            // Backpressure, not a drop: stop reading this device until Kafka has taken enough acks.
            ctx.channel().config().setAutoRead(false);
            services.metrics().ackBackpressure();
            services.acks().whenRoom(() -> ctx.executor().execute(this::offerWaitingAcks));
        }
    }

    /** On the event loop, once the sink has room: hands over the waiting acks, then reads the device again. */
    private void offerWaitingAcks() {
        while (!waitingAcks.isEmpty()) {
            if (!ctx.channel().isActive()) {
                return; // channelInactive counts them
            }
            if (!services.acks().offer(waitingAcks.peek())) {
                services.acks().whenRoom(() -> ctx.executor().execute(this::offerWaitingAcks));
                return;
            }
            waitingAcks.poll();
        }
        waitingAcks = null;
        session.readSinceSweep = true; // it was us who did not read, not the device who was silent
        ctx.channel().config().setAutoRead(true);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        PeerErrors.caught(ctx, cause, services.brokerId(), listener());
    }

    private BrokerMetrics.Listener listener() {
        return BrokerMetrics.Listener.device(session.webSocket());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            log.debug("[broker {} app={} reg={}] idle, disconnecting", services.brokerId(), session.appId(), session.regId());
            services.disconnects().send(session, ReasonCode.IDLE_TIMEOUT, "no frame within the idle timeout");
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // Leaves the per-app index in any case. A replaced session is no longer in the map: its
        // successor's route must stay.
        if (services.sessions().remove(session)) {
            services.lifecycle().closed(session);
        }
        if (waitingAcks != null) {
            for (int i = waitingAcks.size(); i > 0; i--) {
                services.metrics().ackDropped(); // still queued for the device: redelivered on its next connection
            }
            waitingAcks.clear();
        }
        ctx.fireChannelInactive();
    }
}
