package io.tern.protocol.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.ReasonCode;

import java.util.List;

/**
 * The same Tern frames travel as binary WebSocket messages: these adapters unwrap incoming
 * binary messages into the byte stream the {@link io.tern.protocol.codec.FrameDecoder} reads,
 * and wrap every outgoing encoded frame into one binary message. A text message is not part of
 * the protocol, whatever it carries: it becomes a {@link DecodeFailure} (MALFORMED_FRAME), which
 * the decoder passes on once and after which it discards the stream.
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

        /** Detail of the failure a text message yields. */
        public static final String TEXT_REFUSED = "text WebSocket message: Tern frames travel as binary messages";

        @Override
        protected void decode(ChannelHandlerContext ctx, WebSocketFrame msg, List<Object> out) {
            // Judged by the message type, not by the bytes: a text message whose UTF-8 happens to
            // spell a valid frame (a CONNECT does) must not be acted on. Continuations of a
            // fragmented binary message pass on; the stream decoder joins them.
            if (msg instanceof TextWebSocketFrame) {
                out.add(new DecodeFailure(ReasonCode.MALFORMED_FRAME, TEXT_REFUSED));
                return;
            }
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
