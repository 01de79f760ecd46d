package io.tern.protocol.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

import java.util.List;

/**
 * The same Tern frames travel as binary WebSocket messages: these adapters unwrap incoming
 * binary messages into the byte stream the {@link io.tern.protocol.codec.FrameDecoder} reads,
 * and wrap every outgoing encoded frame into one binary message.
 */
public final class WebSocketFrameAdapters {
    /** Endpoint path for device WebSocket connections. */
    public static final String PATH = "/v1/ws";
    public static final String SUBPROTOCOL = "tern.v1";

    private WebSocketFrameAdapters() {
    }

    @ChannelHandler.Sharable
    public static final class Unwrap extends MessageToMessageDecoder<WebSocketFrame> {
        public static final Unwrap INSTANCE = new Unwrap();

        private Unwrap() {
            super(WebSocketFrame.class);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, WebSocketFrame msg, List<Object> out) {
            // Text and continuation frames are not part of the protocol; an empty buffer would
            // hide them, so pass the content on and let the frame decoder judge the bytes.
            out.add(msg.content().retain());
        }
    }

    @ChannelHandler.Sharable
    public static final class Wrap extends MessageToMessageEncoder<ByteBuf> {
        public static final Wrap INSTANCE = new Wrap();

        private Wrap() {
            super(ByteBuf.class);
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, ByteBuf msg, List<Object> out) {
            out.add(new BinaryWebSocketFrame(msg.retain()));
        }
    }
}
