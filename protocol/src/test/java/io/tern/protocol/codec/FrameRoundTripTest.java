package io.tern.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameRoundTripTest {
    private final EmbeddedChannel channel =
            new EmbeddedChannel(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY), FrameEncoder.INSTANCE);

    @AfterEach
    void noLeftovers() {
        assertFalse(channel.finishAndReleaseAll(), "unread messages left in the channel");
    }

    static List<Frame> everyType() {
        return TestFrames.everyType();
    }

    @Test
    void samplesCoverEveryFrameType() {
        Set<FrameType> covered = EnumSet.noneOf(FrameType.class);
        for (Frame f : TestFrames.everyType()) {
            covered.add(f.type());
        }
        assertEquals(EnumSet.allOf(FrameType.class), covered);
    }

    @ParameterizedTest
    @MethodSource("everyType")
    void encodeThenDecodeGivesTheSameFrame(Frame frame) {
        assertTrue(channel.writeOutbound(frame));
        ByteBuf encoded = channel.readOutbound();
        assertEquals(FrameHeader.VERSION, encoded.getUnsignedByte(FrameHeader.VERSION_OFFSET));
        assertEquals(frame.type().code(), encoded.getUnsignedByte(FrameHeader.TYPE_OFFSET));
        assertEquals(encoded.readableBytes() - FrameHeader.SIZE, encoded.getInt(FrameHeader.LENGTH_OFFSET));

        assertTrue(channel.writeInbound(encoded));
        Frame decoded = channel.readInbound();
        assertEquals(frame, decoded);
        assertEquals(0, encoded.refCnt(), "decoder releases its input");
        if (frame instanceof Frame.Push p) {
            assertArrayEquals(p.payload(), ((Frame.Push) decoded).payload());
        }
        if (frame instanceof Frame.PushCommand c) {
            assertArrayEquals(c.push().payload(), ((Frame.PushCommand) decoded).push().payload());
        }
    }

    @Test
    void pushComparesPayloadBytes() {
        Frame.Push a = new Frame.Push(1, 2, PayloadKind.DATA, new byte[] {1, 2, 3});
        channel.writeOutbound(a);
        channel.writeInbound((Object) channel.readOutbound());
        Frame.Push decoded = channel.readInbound();
        assertArrayEquals(new byte[] {1, 2, 3}, decoded.payload());
        assertFalse(decoded.equals(new Frame.Push(1, 2, PayloadKind.DATA, new byte[] {1, 2, 4})));
    }

    @Test
    void severalFramesInOneBufferDecodeInOrder() {
        List<Frame> frames = TestFrames.everyType();
        ByteBuf all = Unpooled.buffer();
        for (Frame f : frames) {
            FrameCodec.encode(f, all);
        }
        assertTrue(channel.writeInbound(all));
        assertEquals(frames, readAllInbound());
        assertEquals(0, all.refCnt());
    }

    @Test
    void frameSplitIntoOneByteWritesStillDecodes() {
        Frame frame = TestFrames.everyType().get(13); // PUSH_COMMAND: strings, longs and a payload
        byte[] bytes = TestFrames.encodeToBytes(frame);
        List<ByteBuf> written = new ArrayList<>();
        for (int i = 0; i < bytes.length - 1; i++) {
            ByteBuf one = Unpooled.wrappedBuffer(new byte[] {bytes[i]});
            written.add(one);
            assertFalse(channel.writeInbound(one), "nothing decodes before the last byte (byte " + i + ")");
        }
        ByteBuf last = Unpooled.wrappedBuffer(new byte[] {bytes[bytes.length - 1]});
        written.add(last);
        assertTrue(channel.writeInbound(last));
        assertEquals(frame, channel.readInbound());
        for (ByteBuf b : written) {
            assertEquals(0, b.refCnt());
        }
    }

    @Test
    void streamOfEveryTypeWrittenByteByByteDecodesInOrder() {
        List<Frame> frames = TestFrames.everyType();
        List<byte[]> encoded = new ArrayList<>();
        for (Frame f : frames) {
            encoded.add(TestFrames.encodeToBytes(f));
        }
        byte[] stream = TestFrames.concat(encoded.toArray(new byte[0][]));
        for (byte b : stream) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertEquals(frames, readAllInbound());
    }

    @Test
    void emptyBodiedFramesAreJustTheHeader() {
        assertArrayEquals(new byte[] {1, 0x03, 0, 0, 0, 0, 0, 0}, TestFrames.encodeToBytes(Frame.Ping.INSTANCE));
        assertArrayEquals(new byte[] {1, 0x04, 0, 0, 0, 0, 0, 0}, TestFrames.encodeToBytes(Frame.Pong.INSTANCE));
    }

    @Test
    void fieldsAreBigEndianInDocumentedOrder() {
        byte[] ack = TestFrames.encodeToBytes(new Frame.Ack(0x0102030405060708L));
        assertArrayEquals(new byte[] {1, 0x06, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}, ack);

        byte[] connect = TestFrames.encodeToBytes(new Frame.Connect("a", "é", "", 5L));
        assertArrayEquals(new byte[] {
                1, 0x01, 0, 0, 0, 0, 0, 17,
                0, 1, 'a',
                0, 2, (byte) 0xC3, (byte) 0xA9,
                0, 0,
                0, 0, 0, 0, 0, 0, 0, 5}, connect);

        byte[] push = TestFrames.encodeToBytes(new Frame.Push(1L, 2L, PayloadKind.DATA, new byte[] {9}));
        assertArrayEquals(new byte[] {
                1, 0x05, 0, 0, 0, 0, 0, 22,
                0, 0, 0, 0, 0, 0, 0, 1,
                0, 0, 0, 0, 0, 0, 0, 2,
                2,
                0, 0, 0, 1, 9}, push);
    }

    @Test
    void broadcastPushCarriesItsSeqBehindTheFlag() {
        byte[] push = TestFrames.encodeToBytes(new Frame.Push(1L, 2L, PayloadKind.DATA, new byte[] {9}, 0x0A0B));
        assertArrayEquals(new byte[] {
                1, 0x05, 0, 1, 0, 0, 0, 30,
                0, 0, 0, 0, 0, 0, 0, 1,
                0, 0, 0, 0, 0, 0, 0, 2,
                2,
                0, 0, 0, 1, 9,
                0, 0, 0, 0, 0, 0, 0x0A, 0x0B}, push);
        byte[] plain = TestFrames.encodeToBytes(new Frame.Push(1L, 2L, PayloadKind.DATA, new byte[] {9}));
        assertEquals(0, plain[FrameHeader.FLAGS_OFFSET + 1], "no flag without a broadcastSeq");
    }

    @Test
    void groupPushFramesAreLaidOutAsDocumented() {
        byte[] subscribe = TestFrames.encodeToBytes(new Frame.Subscribe(List.of("ab", "c")));
        assertArrayEquals(new byte[] {1, 0x09, 0, 0, 0, 0, 0, 9, 0, 2, 0, 2, 'a', 'b', 0, 1, 'c'}, subscribe);

        Frame.Push push = new Frame.Push(1L, 2L, PayloadKind.DATA, new byte[0], 3L);
        byte[] batch = TestFrames.encodeToBytes(new Frame.PushBatch(4L, "a", push, List.of("r")));
        assertArrayEquals(new byte[] {
                1, 0x42, 0, 1, 0, 0, 0, 47,
                0, 0, 0, 0, 0, 0, 0, 4,
                0, 1, 'a',
                0, 0, 0, 0, 0, 0, 0, 1,
                0, 0, 0, 0, 0, 0, 0, 2,
                2,
                0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 3,
                0, 0, 0, 1,
                0, 1, 'r'}, batch);

        byte[] result = TestFrames.encodeToBytes(new Frame.PushBatchResult(4L, 2, List.of("x")));
        assertArrayEquals(new byte[] {
                1, 0x43, 0, 0, 0, 0, 0, 19,
                0, 0, 0, 0, 0, 0, 0, 4,
                0, 0, 0, 2,
                0, 0, 0, 1,
                0, 1, 'x'}, result);

        byte[] broadcast = TestFrames.encodeToBytes(new Frame.Broadcast(5L, "a", push));
        assertEquals(0x44, broadcast[FrameHeader.TYPE_OFFSET]);
        assertEquals(FrameHeader.FLAG_BROADCAST, broadcast[FrameHeader.FLAGS_OFFSET + 1]);
        assertEquals(8 + 3 + 21 + 8, broadcast.length - FrameHeader.SIZE); // ids, appId, push, broadcastSeq
        byte[] counted = TestFrames.encodeToBytes(new Frame.Broadcast(5L, "a", push, true));
        assertEquals(FrameHeader.FLAG_BROADCAST | FrameHeader.FLAG_COUNT_ACKS, counted[FrameHeader.FLAGS_OFFSET + 1]);
        assertEquals(broadcast.length, counted.length, "the flag adds no field");

        byte[] broadcastResult = TestFrames.encodeToBytes(new Frame.BroadcastResult(5L, 7));
        assertArrayEquals(new byte[] {1, 0x45, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 7}, broadcastResult);
    }

    @Test
    void cumulativeAckFramesAreLaidOutAsDocumented() {
        byte[] acks = TestFrames.encodeToBytes(new Frame.Acks(new long[] {1L, -2L}));
        assertArrayEquals(new byte[] {
                1, 0x0B, 0, 0, 0, 0, 0, 18,
                0, 2,
                0, 0, 0, 0, 0, 0, 0, 1,
                -1, -1, -1, -1, -1, -1, -1, -2}, acks);

        byte[] connAck = TestFrames.encodeToBytes(new Frame.ConnAck(30, 5L, 50, 64));
        assertArrayEquals(new byte[] {
                1, 0x02, 0, FrameHeader.FLAG_ACKS, 0, 0, 0, 14,
                0, 30,
                0, 0, 0, 0, 0, 0, 0, 5,
                0, 50,
                0, 64}, connAck);
        byte[] oldConnAck = TestFrames.encodeToBytes(new Frame.ConnAck(30, 5L));
        assertArrayEquals(new byte[] {1, 0x02, 0, 0, 0, 0, 0, 10, 0, 30, 0, 0, 0, 0, 0, 0, 0, 5}, oldConnAck,
                "without a delay the CONNACK is the one older SDKs read");

        byte[] connect = TestFrames.encodeToBytes(new Frame.Connect("a", "r", "t", 1L, true));
        byte[] oldConnect = TestFrames.encodeToBytes(new Frame.Connect("a", "r", "t", 1L));
        assertEquals(FrameHeader.FLAG_ACKS, connect[FrameHeader.FLAGS_OFFSET + 1]);
        assertEquals(0, oldConnect[FrameHeader.FLAGS_OFFSET + 1]);
        assertEquals(oldConnect.length, connect.length, "the flag adds no field to CONNECT");
    }

    @Test
    void stringLimitIsCountedInUtf8BytesNotChars() {
        String atLimit = "é".repeat(FrameCodec.MAX_STRING_BYTES / 2);
        Frame ok = new Frame.Disconnect(ReasonCode.OK, atLimit);
        channel.writeOutbound(ok);
        channel.writeInbound((Object) channel.readOutbound());
        assertEquals(ok, channel.readInbound());

        // 683 chars, 2049 bytes: under the limit in chars, over it in bytes.
        String overLimit = "日".repeat(683);
        ByteBuf out = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class,
                () -> FrameCodec.encode(new Frame.Disconnect(ReasonCode.OK, overLimit), out));
    }

    @Test
    void alreadyEncodedBuffersPassThroughTheEncoderUntouched() {
        ByteBuf encoded = TestFrames.encode(Frame.Ping.INSTANCE);
        assertTrue(channel.writeOutbound(encoded));
        ByteBuf written = channel.readOutbound();
        assertSame(encoded, written);
        assertEquals(1, written.refCnt());
        written.release();
    }

    @Test
    void encoderOutputEndsAfterTheFrame() {
        channel.writeOutbound(Frame.Ping.INSTANCE, new Frame.Ack(3));
        ByteBuf first = channel.readOutbound();
        ByteBuf second = channel.readOutbound();
        assertEquals(FrameHeader.SIZE, first.readableBytes());
        assertEquals(FrameHeader.SIZE + 8, second.readableBytes());
        assertNull(channel.readOutbound());
        first.release();
        second.release();
    }

    private List<Frame> readAllInbound() {
        List<Frame> decoded = new ArrayList<>();
        for (Object m; (m = channel.readInbound()) != null; ) {
            decoded.add(assertInstanceOf(Frame.class, m));
        }
        return decoded;
    }
}
