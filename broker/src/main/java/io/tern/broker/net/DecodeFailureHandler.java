package io.tern.broker.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.tern.broker.session.Disconnects;
import io.tern.protocol.frame.DecodeFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Malformed input cannot be resynchronised: answer DISCONNECT with the decoder's reason and
 * close. Frames decoded before the bad one have already gone on.
 */
@ChannelHandler.Sharable
public final class DecodeFailureHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(DecodeFailureHandler.class);

    private final String brokerId;
    private final Disconnects disconnects;

    public DecodeFailureHandler(String brokerId, Disconnects disconnects) {
        this.brokerId = brokerId;
        this.disconnects = disconnects;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DecodeFailure failure) {
            log.debug("[broker {}] malformed input from {}: {} ({})", brokerId, ctx.channel().remoteAddress(),
                    failure.reason(), failure.detail());
            disconnects.send(ctx.channel(), failure.reason(), failure.detail());
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
