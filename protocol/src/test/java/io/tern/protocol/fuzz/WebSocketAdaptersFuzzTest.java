package io.tern.protocol.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.websocket.WebSocketFrameAdapters;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Arbitrary sequences of the messages the WebSocket protocol handler passes on (binary, text,
 * continuation; any fragment flag, any content) through {@code Unwrap} and the frame decoder.
 * Frames decode only from binary bytes received before the first text message; a text message
 * ends the stream with one MALFORMED_FRAME failure; every message is released; nothing throws.
 * Regression inputs: src/test/resources/io/tern/protocol/fuzz/WebSocketAdaptersFuzzTestInputs/.
 */
class WebSocketAdaptersFuzzTest {

    @FuzzTest(maxDuration = "15m", maxExecutions = 1_000_000)
    void messagesUnwrapToFramesAndTextIsRefused(FuzzedDataProvider data) {
        EmbeddedChannel channel = new EmbeddedChannel(WebSocketFrameAdapters.Unwrap.INSTANCE,
                new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY));
        List<WebSocketFrame> sent = new ArrayList<>();
        List<Object> out = new ArrayList<>();
        boolean textSeen = false;
        boolean failed = false;
        while (data.remainingBytes() > 0) {
            int kind = data.consumeInt(0, 2);
            boolean last = data.consumeBoolean();
            byte[] content = data.consumeBytes(data.consumeInt(0, 512));
            WebSocketFrame m = switch (kind) {
                case 0 -> new BinaryWebSocketFrame(last, 0, body(content));
                case 1 -> new TextWebSocketFrame(last, 0, body(content));
                default -> new ContinuationWebSocketFrame(last, 0, body(content));
            };
            sent.add(m);
            channel.writeInbound(m);
            for (Object o; (o = channel.readInbound()) != null; ) {
                if (o instanceof Frame) {
                    assertFalse(failed, "a frame after the failure");
                    assertFalse(textSeen, "a frame decoded after a text message");
                } else if (o instanceof DecodeFailure f) {
                    assertFalse(failed, "a second failure");
                    failed = true;
                    if (m instanceof TextWebSocketFrame && !textSeen) {
                        assertEquals(ReasonCode.MALFORMED_FRAME, f.reason());
                    }
                } else {
                    fail("emitted " + o.getClass());
                }
                out.add(o);
            }
            if (m instanceof TextWebSocketFrame) {
                textSeen = true;
                assertTrue(failed, "a text message always ends the stream");
            }
        }
        channel.finishAndReleaseAll();
        for (WebSocketFrame m : sent) {
            assertEquals(0, m.refCnt(), "message released");
        }
        if (textSeen) {
            assertInstanceOf(DecodeFailure.class, out.get(out.size() - 1));
        }
    }

    /** A real buffer even when empty: Unpooled.wrappedBuffer(new byte[0]) is the shared, never-released EMPTY_BUFFER. */
    private static io.netty.buffer.ByteBuf body(byte[] content) {
        return Unpooled.buffer(content.length).writeBytes(content);
    }
}
