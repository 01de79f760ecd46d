package io.tern.broker.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.PeerErrors;

/**
 * Last in the internal pipeline: {@link PeerErrors} for what the link handlers did not take. Device
 * pipelines have no such handler; their last handler calls {@link PeerErrors} itself.
 */
@ChannelHandler.Sharable
public final class ErrorHandler extends ChannelInboundHandlerAdapter {
    private final String brokerId;
    private final BrokerMetrics.Listener listener;
    private final Disconnects disconnects;

    /** @param brokerId and {@code listener} name the connections in the log, e.g. "[broker b1 internal]" */
    public ErrorHandler(String brokerId, BrokerMetrics.Listener listener, Disconnects disconnects) {
        this.brokerId = brokerId;
        this.listener = listener;
        this.disconnects = disconnects;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        PeerErrors.unhandled(ctx, msg, brokerId, listener, disconnects);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        PeerErrors.caught(ctx, cause, brokerId, listener);
    }
}
