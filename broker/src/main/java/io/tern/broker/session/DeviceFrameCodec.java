package io.tern.broker.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.EncoderException;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;

import java.net.SocketAddress;
import java.util.function.Consumer;

/**
 * A device connection's frame decoder and encoder in one handler: one 64-byte context per idle
 * connection instead of two. In, it is the {@link FrameDecoder}; out, it encodes each frame and counts
 * it by type for the listener. Already-encoded frames (a ByteBuf, e.g. one broadcast frame shared by
 * many connections) pass through uncounted, as they do the {@link io.tern.protocol.codec.FrameEncoder};
 * the broadcaster writes those from this handler's context, below it, anyway. One per connection (the
 * decoder's state).
 */
public final class DeviceFrameCodec extends FrameDecoder implements ChannelOutboundHandler {
    /** Shared by a listener's connections: one reference here rather than the metrics and the listener. */
    private final Consumer<FrameType> framesOut;

    /** @param framesOut counts a frame written, by type */
    public DeviceFrameCodec(int maxBodySize, Consumer<FrameType> framesOut) {
        super(maxBodySize);
        this.framesOut = framesOut;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof Frame frame)) {
            ctx.write(msg, promise);
            return;
        }
        framesOut.accept(frame.type());
        ByteBuf encoded;
        try {
            encoded = FrameCodec.encode(frame, ctx.alloc());
        } catch (RuntimeException e) {
            throw new EncoderException(e); // as a MessageToByteEncoder fails the write
        }
        ctx.write(encoded, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void bind(ChannelHandlerContext ctx, SocketAddress localAddress, ChannelPromise promise) {
        ctx.bind(localAddress, promise);
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress,
                        ChannelPromise promise) {
        ctx.connect(remoteAddress, localAddress, promise);
    }

    @Override
    public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.disconnect(promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.close(promise);
    }

    @Override
    public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.deregister(promise);
    }
}
