package io.tern.broker.session;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.topic.AckRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An authenticated device's frames: PING → PONG, ACK → the ack queue, DISCONNECT → close; the
 * idle event → DISCONNECT(IDLE_TIMEOUT); and on close, the session leaves the connection map.
 * Stateless: the session lives in a channel attribute.
 */
@ChannelHandler.Sharable
public final class SessionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(SessionHandler.class);

    private final DeviceServices services;

    public SessionHandler(DeviceServices services) {
        this.services = services;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Frame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        Session session = Session.of(ctx.channel());
        if (session == null || session.closing()) {
            return; // AuthHandler keeps unauthenticated frames from coming here; late frames of a closing session are dropped
        }
        switch (frame.type()) {
            case PING -> ctx.writeAndFlush(Frame.Pong.INSTANCE);
            case ACK -> ack(session, ((Frame.Ack) frame).msgId());
            case DISCONNECT -> {
                log.debug("[broker {} app={} reg={}] device disconnected: {}", services.brokerId(), session.appId(),
                        session.regId(), ((Frame.Disconnect) frame).reason());
                ctx.close();
            }
            default -> services.disconnects().send(ctx.channel(), ReasonCode.PROTOCOL_VIOLATION,
                    frame.type() + " is not a frame a device may send after CONNECT");
        }
    }

    private void ack(Session session, long msgId) {
        services.metrics().ackReceived();
        services.acks().offer(new AckRecord(session.appId(), session.regId(), msgId, services.clock().getAsLong(),
                services.brokerId()));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            Session s = Session.of(ctx.channel());
            log.debug("[broker {} {}] idle, disconnecting", services.brokerId(), s != null ? s : ctx.channel().remoteAddress());
            services.disconnects().send(ctx.channel(), ReasonCode.IDLE_TIMEOUT, "no frame within the idle timeout");
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Session session = Session.of(ctx.channel());
        // Replaced sessions are no longer in the map: their successor's route must stay.
        if (session != null && services.sessions().remove(session)) {
            services.lifecycle().closed(session);
        }
        ctx.fireChannelInactive();
    }
}
