package io.tern.protocol.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.codec.TestFrames;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebSocketFrameAdaptersTest {

    private static EmbeddedChannel inbound() {
        return new EmbeddedChannel(WebSocketFrameAdapters.Unwrap.INSTANCE, new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY));
    }

    @Test
    void endpointConstants() {
        assertEquals("/v1/ws", WebSocketFrameAdapters.PATH);
        assertEquals("tern.v1", WebSocketFrameAdapters.SUBPROTOCOL);
    }

    @Test
    void eachBinaryMessageCarryingOneFrameDecodesAndIsReleased() {
        EmbeddedChannel channel = inbound();
        List<BinaryWebSocketFrame> messages = new ArrayList<>();
        for (Frame f : TestFrames.everyType()) {
            BinaryWebSocketFrame message = new BinaryWebSocketFrame(TestFrames.encode(f));
            messages.add(message);
            assertTrue(channel.writeInbound(message));
            assertEquals(f, channel.readInbound());
        }
        for (BinaryWebSocketFrame m : messages) {
            assertEquals(0, m.refCnt(), "message released after unwrapping");
        }
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void malformedBytesInAMessageYieldOneFailureAndNothingAfter() {
        EmbeddedChannel channel = inbound();
        BinaryWebSocketFrame garbage = new BinaryWebSocketFrame(Unpooled.copiedBuffer("hello, broker", java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(channel.writeInbound(garbage));
        assertEquals(ReasonCode.UNSUPPORTED_VERSION,
                assertInstanceOf(DecodeFailure.class, channel.readInbound()).reason());
        assertEquals(0, garbage.refCnt());

        BinaryWebSocketFrame good = new BinaryWebSocketFrame(TestFrames.encode(Frame.Ping.INSTANCE));
        assertFalse(channel.writeInbound(good));
        assertEquals(0, good.refCnt());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aTextMessageFailsTheDecodeEvenWhenItsBytesSpellAValidConnect() {
        EmbeddedChannel channel = inbound();
        byte[] connect = TestFrames.encodeToBytes(new Frame.Connect("app", "reg", "token", 0));
        // Every byte of this CONNECT is ASCII, so it is valid UTF-8 and fits a text message.
        TextWebSocketFrame text = new TextWebSocketFrame(Unpooled.wrappedBuffer(connect));
        assertTrue(channel.writeInbound(text));
        DecodeFailure failure = assertInstanceOf(DecodeFailure.class, channel.readInbound());
        assertEquals(ReasonCode.MALFORMED_FRAME, failure.reason());
        assertEquals(WebSocketFrameAdapters.Unwrap.TEXT_REFUSED, failure.detail());
        assertEquals(0, text.refCnt());

        // The stream is over: a binary CONNECT and a second text message after it yield nothing.
        BinaryWebSocketFrame binary = new BinaryWebSocketFrame(Unpooled.wrappedBuffer(connect));
        TextWebSocketFrame again = new TextWebSocketFrame("again");
        assertFalse(channel.writeInbound(binary, again));
        assertEquals(0, binary.refCnt());
        assertEquals(0, again.refCnt());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void wrapTurnsOneEncodedBufferIntoOneBinaryMessage() {
        EmbeddedChannel channel = new EmbeddedChannel(WebSocketFrameAdapters.Wrap.INSTANCE);
        ByteBuf encoded = TestFrames.encode(new Frame.Ack(5));
        byte[] expected = ByteBufUtil.getBytes(encoded);

        assertTrue(channel.writeOutbound(encoded));
        BinaryWebSocketFrame message = assertInstanceOf(BinaryWebSocketFrame.class, channel.readOutbound());
        assertNull(channel.readOutbound(), "exactly one message");
        assertTrue(message.isFinalFragment());
        assertArrayEquals(expected, ByteBufUtil.getBytes(message.content()));
        assertEquals(1, encoded.refCnt(), "the message now owns the only reference");

        assertTrue(ReferenceCountUtil.release(message));
        assertEquals(0, encoded.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void framesSurviveTheWholeWebSocketPipeline() {
        // Outbound: FrameEncoder (tail) -> Wrap; inbound: Unwrap -> FrameDecoder.
        EmbeddedChannel sender = new EmbeddedChannel(WebSocketFrameAdapters.Wrap.INSTANCE, FrameEncoder.INSTANCE);
        EmbeddedChannel receiver = inbound();
        for (Frame f : TestFrames.everyType()) {
            assertTrue(sender.writeOutbound(f));
            BinaryWebSocketFrame message = assertInstanceOf(BinaryWebSocketFrame.class, sender.readOutbound());
            assertTrue(receiver.writeInbound(message));
            assertEquals(f, receiver.readInbound());
            assertEquals(0, message.refCnt());
        }
        assertFalse(sender.finishAndReleaseAll());
        assertFalse(receiver.finishAndReleaseAll());
    }

    @Test
    void oneEncodedBroadcastFrameIsSharedByManyConnectionsAndFreedOnce() {
        ByteBuf shared = FrameCodec.encode(new Frame.Ack(9), Unpooled.buffer().alloc());
        List<EmbeddedChannel> connections = List.of(
                new EmbeddedChannel(WebSocketFrameAdapters.Wrap.INSTANCE, FrameEncoder.INSTANCE),
                new EmbeddedChannel(WebSocketFrameAdapters.Wrap.INSTANCE, FrameEncoder.INSTANCE),
                new EmbeddedChannel(WebSocketFrameAdapters.Wrap.INSTANCE, FrameEncoder.INSTANCE));
        for (EmbeddedChannel c : connections) {
            c.writeOutbound(shared.retainedDuplicate());
        }
        assertEquals(1 + connections.size(), shared.refCnt());
        for (EmbeddedChannel c : connections) {
            BinaryWebSocketFrame m = c.readOutbound();
            assertEquals(FrameHeader.SIZE + 8, m.content().readableBytes());
            m.release();
            assertFalse(c.finish());
        }
        assertTrue(shared.release());
    }
}
