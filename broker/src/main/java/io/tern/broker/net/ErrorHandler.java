package io.tern.broker.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.tern.broker.session.Disconnects;
import io.tern.protocol.frame.DecodeFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Last in every pipeline. Malformed input (the decoder's {@link DecodeFailure}, passed along by
 * the handlers before) cannot be resynchronised: DISCONNECT with the decoder's reason, then
 * close; frames decoded before the bad one have already been handled. A peer reset is routine
 * (DEBUG); any other exception is a bug or a broken peer worth a WARN, and closes the
 * connection. Anything else no handler took is dropped.
 */
@ChannelHandler.Sharable
public final class ErrorHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ErrorHandler.class);

    private final String prefix;
    private final Disconnects disconnects;

    /** @param prefix log prefix naming the broker and listener, e.g. "broker b1 tcp" */
    public ErrorHandler(String prefix, Disconnects disconnects) {
        this.prefix = prefix;
        this.disconnects = disconnects;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DecodeFailure failure) {
            log.debug("[{}] malformed input from {}: {} ({})", prefix, ctx.channel().remoteAddress(),
                    failure.reason(), failure.detail());
            disconnects.send(ctx.channel(), failure.reason(), failure.detail());
            return;
        }
        log.debug("[{}] dropping unexpected {} from {}", prefix, msg.getClass().getSimpleName(), ctx.channel().remoteAddress());
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("[{}] connection {} failed: {}", prefix, ctx.channel().remoteAddress(), cause.toString());
        } else {
            log.warn("[{}] closing {} after an unexpected error", prefix, ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
