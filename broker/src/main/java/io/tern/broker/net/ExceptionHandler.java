package io.tern.broker.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Last in every pipeline: a peer reset is routine (DEBUG); anything else is a bug or a broken
 * peer worth a WARN. Either way the connection closes. Also drops anything no handler took.
 */
@ChannelHandler.Sharable
public final class ExceptionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ExceptionHandler.class);

    private final String prefix;

    /** @param prefix log prefix naming the broker and listener, e.g. "broker b1 tcp" */
    public ExceptionHandler(String prefix) {
        this.prefix = prefix;
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

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        log.debug("[{}] dropping unexpected {} from {}", prefix, msg.getClass().getSimpleName(), ctx.channel().remoteAddress());
        ReferenceCountUtil.release(msg);
    }
}
