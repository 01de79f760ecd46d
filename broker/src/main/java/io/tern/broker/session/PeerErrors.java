package io.tern.broker.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.frame.DecodeFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * What the end of every pipeline does with what no handler took. Malformed input (the decoder's
 * {@link DecodeFailure}) cannot be resynchronised: DISCONNECT with the decoder's reason, then close;
 * frames decoded before the bad one have already been handled. A peer reset is routine (DEBUG); any
 * other exception is a bug or a broken peer worth a WARN, and closes the connection. Anything else is
 * dropped. Called by the last handler of a device pipeline (auth, then session) rather than by a handler
 * of its own: a handler costs each idle connection a 64-byte context. The internal pipeline has
 * {@code io.tern.broker.net.ErrorHandler}.
 */
public final class PeerErrors {
    private static final Logger log = LoggerFactory.getLogger(PeerErrors.class);

    private PeerErrors() {
    }

    /**
     * @param brokerId and {@code listener} name the connection in the log ("[broker b1 tcp]")
     */
    public static void unhandled(ChannelHandlerContext ctx, Object msg, String brokerId,
                                 BrokerMetrics.Listener listener, Disconnects disconnects) {
        if (msg instanceof DecodeFailure failure) {
            log.debug("[broker {} {}] malformed input from {}: {} ({})", brokerId, listener.tag(),
                    ctx.channel().remoteAddress(), failure.reason(), failure.detail());
            disconnects.send(ctx.channel(), failure.reason(), failure.detail());
            return;
        }
        log.debug("[broker {} {}] dropping unexpected {} from {}", brokerId, listener.tag(),
                msg.getClass().getSimpleName(), ctx.channel().remoteAddress());
        ReferenceCountUtil.release(msg);
    }

    public static void caught(ChannelHandlerContext ctx, Throwable cause, String brokerId,
                              BrokerMetrics.Listener listener) {
        if (cause instanceof IOException) {
            log.debug("[broker {} {}] connection {} failed: {}", brokerId, listener.tag(), ctx.channel().remoteAddress(),
                    cause.toString());
        } else {
            log.warn("[broker {} {}] closing {} after an unexpected error", brokerId, listener.tag(),
                    ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
