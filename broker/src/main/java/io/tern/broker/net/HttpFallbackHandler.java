package io.tern.broker.net;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.tern.protocol.websocket.WebSocketFrameAdapters;

import java.nio.charset.StandardCharsets;

/**
 * On the WebSocket port, an HTTP request the WebSocket handler did not take (another path) gets
 * a plain 404 and the connection closes; it must not reach the frame handlers.
 */
@ChannelHandler.Sharable
public final class HttpFallbackHandler extends ChannelInboundHandlerAdapter {
    public static final HttpFallbackHandler INSTANCE = new HttpFallbackHandler();

    private static final byte[] BODY = ("{\"code\":\"not_found\",\"message\":\"devices connect with WebSocket at "
            + WebSocketFrameAdapters.PATH + "\"}").getBytes(StandardCharsets.UTF_8);

    private HttpFallbackHandler() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ReferenceCountUtil.release(msg);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                Unpooled.wrappedBuffer(BODY));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length);
        r.headers().set(HttpHeaderNames.CONNECTION, "close");
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
}
