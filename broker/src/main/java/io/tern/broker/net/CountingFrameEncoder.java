package io.tern.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.frame.Frame;

/**
 * A device pipeline's encoder: counts each frame out by type as it encodes it, so that counting
 * costs a connection no handler context of its own. Already-encoded frames (a ByteBuf, e.g. one
 * broadcast frame shared by many connections) pass through uncounted, as they do the
 * {@link io.tern.protocol.codec.FrameEncoder}; the broadcaster writes those below this handler anyway.
 * One instance per listener.
 */
@ChannelHandler.Sharable
public final class CountingFrameEncoder extends MessageToByteEncoder<Frame> {
    private final BrokerMetrics metrics;
    private final BrokerMetrics.Listener listener;

    public CountingFrameEncoder(BrokerMetrics metrics, BrokerMetrics.Listener listener) {
        super(Frame.class);
        this.metrics = metrics;
        this.listener = listener;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) {
        metrics.frameOut(listener, frame.type());
        FrameCodec.encode(frame, out);
    }
}
