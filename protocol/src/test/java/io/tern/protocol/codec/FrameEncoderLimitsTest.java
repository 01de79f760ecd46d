package io.tern.protocol.codec;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.frame.Tags;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The encoder refuses what the decoder would reject or read back differently. */
class FrameEncoderLimitsTest {

    static Stream<Frame> unencodable() {
        return Stream.of(
                new Frame.Connect("a".repeat(FrameCodec.MAX_STRING_BYTES + 1), "r", "t", 0),
                new Frame.Disconnect(ReasonCode.OK, "日".repeat(683)), // 2049 UTF-8 bytes
                new Frame.Redirect(ReasonCode.REGION_MOVED,
                        Collections.nCopies(FrameCodec.MAX_REDIRECT_ADDRESSES + 1, "10.0.0.1:7000")),
                new Frame.ConnAck(-1, 0),
                new Frame.ConnAck(0x10000, 0),
                new Frame.Subscribe(List.of()),
                new Frame.Subscribe(Collections.nCopies(Tags.MAX_PER_FRAME + 1, "t")),
                new Frame.Subscribe(List.of("ok", "not ok")),
                new Frame.Unsubscribe(List.of("x".repeat(Tags.MAX_LENGTH + 1))),
                new Frame.Unsubscribe(List.of("ünï")),
                new Frame.PushBatch(1, "a", PUSH, Collections.nCopies(Frame.PushBatch.MAX_REG_IDS + 1, "r")),
                new Frame.PushBatch(1, "a", PUSH, List.of("a".repeat(FrameCodec.MAX_STRING_BYTES + 1))),
                new Frame.PushBatchResult(1, 0, Collections.nCopies(Frame.PushBatch.MAX_REG_IDS + 1, "r")),
                new Frame.PushBatchResult(1, -1, List.of()),
                new Frame.Broadcast(1, "a", PUSH),
                new Frame.BroadcastResult(1, -1));
    }

    private static final Frame.Push PUSH = new Frame.Push(1, 2, PayloadKind.DATA, new byte[0]);

    @Test
    void pushRefusesANegativeBroadcastSeq() {
        assertThrows(IllegalArgumentException.class, () -> new Frame.Push(1, 2, PayloadKind.DATA, new byte[0], -1));
    }

    @Test
    void connAckRefusesAckFieldsTheWireCannotCarry() {
        assertThrows(IllegalArgumentException.class, () -> new Frame.ConnAck(30, 0, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Frame.ConnAck(30, 0, 0x10000, 64));
        assertThrows(IllegalArgumentException.class, () -> new Frame.ConnAck(30, 0, 0, 64)); // no delay: no maxAcks
        assertThrows(IllegalArgumentException.class, () -> new Frame.ConnAck(30, 0, 50, 0));
        assertThrows(IllegalArgumentException.class, () -> new Frame.ConnAck(30, 0, 50, Frame.Acks.MAX_IDS + 1));
    }

    @Test
    void acksRefusesNoneOrTooManyMsgIds() {
        assertThrows(IllegalArgumentException.class, () -> new Frame.Acks(new long[0]));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Acks(new long[Frame.Acks.MAX_IDS + 1]));
    }

    @ParameterizedTest
    @MethodSource("unencodable")
    void frameThatDoesNotFitItsWireTypesIsRefusedAndLeavesTheBufferAsItWas(Frame frame) {
        ByteBuf out = Unpooled.buffer();
        FrameCodec.encode(Frame.Ping.INSTANCE, out);
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.encode(frame, out));
        assertEquals(FrameHeader.SIZE, out.writerIndex(), "the earlier frame is intact, nothing half-written");
        out.release();
    }

    @ParameterizedTest
    @MethodSource("unencodable")
    void refusedFrameReleasesTheBufferItAllocated(Frame frame) {
        TrackingAllocator alloc = new TrackingAllocator();
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.encode(frame, alloc));
        assertEquals(1, alloc.allocated.size());
        assertEquals(0, alloc.allocated.get(0).refCnt());
    }

    @ParameterizedTest
    @MethodSource("unencodable")
    void encoderHandlerFailsTheWriteWithoutWritingBytes(Frame frame) {
        EmbeddedChannel channel = new EmbeddedChannel(FrameEncoder.INSTANCE);
        EncoderException e = assertThrows(EncoderException.class, () -> channel.writeOutbound(frame));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void limitsThemselvesAreEncodable() {
        ByteBuf out = Unpooled.buffer();
        FrameCodec.encode(new Frame.Redirect(ReasonCode.REGION_MOVED,
                Collections.nCopies(FrameCodec.MAX_REDIRECT_ADDRESSES, "10.0.0.1:7000")), out);
        FrameCodec.encode(new Frame.ConnAck(0xFFFF, 0), out);
        FrameCodec.encode(new Frame.Connect("a".repeat(FrameCodec.MAX_STRING_BYTES), "r", "t", 0), out);
        FrameCodec.encode(new Frame.Subscribe(Collections.nCopies(Tags.MAX_PER_FRAME, "x".repeat(Tags.MAX_LENGTH))), out);
        FrameCodec.encode(new Frame.PushBatch(1, "a", PUSH, Collections.nCopies(Frame.PushBatch.MAX_REG_IDS, "r")), out);
        FrameCodec.encode(new Frame.PushBatchResult(1, Integer.MAX_VALUE,
                Collections.nCopies(Frame.PushBatch.MAX_REG_IDS, "r")), out);
        out.release();
    }

    @Test
    void encodeWithAllocatorReturnsExactlyOneFrame() {
        TrackingAllocator alloc = new TrackingAllocator();
        ByteBuf buf = FrameCodec.encode(new Frame.Ack(1), alloc);
        assertEquals(FrameHeader.SIZE + 8, buf.readableBytes());
        assertEquals(1, buf.refCnt());
        buf.release();
    }

    /** Records every buffer it hands out so a test can check each was released. */
    private static final class TrackingAllocator extends AbstractByteBufAllocator {
        final List<ByteBuf> allocated = new ArrayList<>();

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = Unpooled.buffer(initialCapacity, maxCapacity);
            allocated.add(b);
            return b;
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = Unpooled.directBuffer(initialCapacity, maxCapacity);
            allocated.add(b);
            return b;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }
}
