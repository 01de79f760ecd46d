package io.tern.broker.delivery;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Session;
import io.tern.broker.session.Sessions;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The internal port: logic nodes pipeline PushCommands on persistent connections; each gets a
 * PushResult with its correlationId, possibly out of order. WRITTEN is answered once the PUSH
 * is on the device's socket. A logic node that stops reading its results stops being read:
 * the reply buffer stays bounded by the channel's write watermarks.
 */
@ChannelHandler.Sharable
public final class PushCommandHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PushCommandHandler.class);

    private final String brokerId;
    private final Sessions sessions;
    private final Disconnects disconnects;
    private final BrokerMetrics metrics;

    public PushCommandHandler(String brokerId, Sessions sessions, Disconnects disconnects, BrokerMetrics metrics) {
        this.brokerId = brokerId;
        this.sessions = sessions;
        this.disconnects = disconnects;
        this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Frame.PushCommand command) {
            push(ctx.channel(), command);
        } else if (msg instanceof Frame frame) {
            log.debug("[broker {} internal] {} sent {}, closing", brokerId, ctx.channel().remoteAddress(), frame.type());
            disconnects.send(ctx.channel(), ReasonCode.PROTOCOL_VIOLATION, frame.type() + " is not allowed on the internal port");
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void push(Channel internal, Frame.PushCommand command) {
        Session session = sessions.find(command.appId(), command.regId());
        if (session == null || !session.usable()) {
            reply(internal, command.correlationId(), PushOutcome.NOT_CONNECTED);
            return;
        }
        Channel device = session.channel();
        if (!device.isWritable()) {
            reply(internal, command.correlationId(), PushOutcome.BACKPRESSURE);
            return;
        }
        long correlationId = command.correlationId();
        device.writeAndFlush(command.push()).addListener(f -> {
            if (f.isSuccess()) {
                metrics.pushWritten(BrokerMetrics.PushSource.COMMAND);
                reply(internal, correlationId, PushOutcome.WRITTEN);
            } else {
                reply(internal, correlationId, PushOutcome.NOT_CONNECTED);
            }
        });
    }

    private void reply(Channel internal, long correlationId, PushOutcome outcome) {
        metrics.pushCommand(outcome);
        internal.writeAndFlush(new Frame.PushResult(correlationId, outcome), internal.voidPromise());
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }
}
