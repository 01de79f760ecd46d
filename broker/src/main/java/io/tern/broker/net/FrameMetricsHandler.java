package io.tern.broker.net;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.frame.Frame;

/** Counts frames in and out by type, on the frame side of the codec. */
@ChannelHandler.Sharable
public final class FrameMetricsHandler extends ChannelDuplexHandler {
    private final BrokerMetrics metrics;
    private final BrokerMetrics.Listener listener;

    public FrameMetricsHandler(BrokerMetrics metrics, BrokerMetrics.Listener listener) {
        this.metrics = metrics;
        this.listener = listener;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Frame f) {
            metrics.frameIn(listener, f.type());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof Frame f) {
            metrics.frameOut(listener, f.type());
        }
        ctx.write(msg, promise);
    }
}
