package io.tern.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import static io.tern.protocol.codec.TestFrames.body;
import static io.tern.protocol.codec.TestFrames.concat;
import static io.tern.protocol.codec.TestFrames.encodeToBytes;
import static io.tern.protocol.codec.TestFrames.header;
import static io.tern.protocol.codec.TestFrames.raw;
import static io.tern.protocol.codec.TestFrames.rawWithFlags;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameDecoderMalformedInputTest {
    private static final int V = FrameHeader.VERSION;
    private static final byte[] GOOD = encodeToBytes(new Frame.Ack(7));

    private final EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY));

    @AfterEach
    void noLeftovers() {
        assertFalse(channel.finishAndReleaseAll(), "unread messages left in the channel");
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("ACK body shorter than its i64",
                        raw(V, FrameType.ACK.code(), new byte[4]), ReasonCode.MALFORMED_FRAME),
                Arguments.of("CONNACK body shorter than its fields",
                        raw(V, FrameType.CONNACK.code(), new byte[2]), ReasonCode.MALFORMED_FRAME),
                Arguments.of("CONNECT without lastBroadcastSeq",
                        raw(V, FrameType.CONNECT.code(), body(b -> b.writeShort(0).writeShort(0).writeShort(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("PUSH_RESULT without outcome",
                        raw(V, FrameType.PUSH_RESULT.code(), new byte[8]), ReasonCode.MALFORMED_FRAME),
                Arguments.of("PING with a trailing byte",
                        raw(V, FrameType.PING.code(), new byte[1]), ReasonCode.MALFORMED_FRAME),
                Arguments.of("ACK with a trailing byte",
                        raw(V, FrameType.ACK.code(), new byte[9]), ReasonCode.MALFORMED_FRAME),
                Arguments.of("DISCONNECT with trailing bytes after the message",
                        raw(V, FrameType.DISCONNECT.code(), body(b -> b.writeShort(0).writeShort(0).writeInt(1))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("string length past the end of the body",
                        raw(V, FrameType.CONNECT.code(), body(b -> b.writeShort(100).writeBytes(new byte[3]))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("string declared longer than 2048 bytes",
                        raw(V, FrameType.DISCONNECT.code(),
                                body(b -> b.writeShort(0).writeShort(2049).writeBytes(new byte[2049]))),
                        ReasonCode.MALFORMED_FRAME),
                // Found by FrameDecoderFuzzTest: these decoded to U+FFFD and re-encoded differently.
                Arguments.of("regId ending in a truncated UTF-8 sequence",
                        raw(V, FrameType.CONNECT.code(), body(b -> b.writeShort(1).writeByte('a')
                                .writeShort(2).writeByte('r').writeByte(0xE6).writeShort(0).writeLong(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("appId with a stray continuation byte",
                        raw(V, FrameType.CONNECT.code(), body(b -> b.writeShort(1).writeByte(0x80)
                                .writeShort(1).writeByte('r').writeShort(0).writeLong(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("tag in an overlong encoding of '/'",
                        raw(V, FrameType.SUBSCRIBE.code(), body(b -> b.writeShort(1).writeShort(2)
                                .writeByte(0xC0).writeByte(0xAF))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("DISCONNECT message with an encoded surrogate",
                        raw(V, FrameType.DISCONNECT.code(), body(b -> b.writeShort(0).writeShort(3)
                                .writeByte(0xED).writeByte(0xA0).writeByte(0x80))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("payload length past the end of the body",
                        raw(V, FrameType.PUSH.code(), body(b -> b.writeLong(1).writeLong(2)
                                .writeByte(PayloadKind.DATA.code()).writeInt(10).writeBytes(new byte[3]))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("negative payload length",
                        raw(V, FrameType.PUSH.code(), body(b -> b.writeLong(1).writeLong(2)
                                .writeByte(PayloadKind.DATA.code()).writeInt(-1))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("unknown payload kind in PUSH",
                        raw(V, FrameType.PUSH.code(), body(b -> b.writeLong(1).writeLong(2)
                                .writeByte(3).writeInt(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("unknown payload kind in PUSH_COMMAND",
                        raw(V, FrameType.PUSH_COMMAND.code(), body(b -> b.writeLong(1).writeShort(0).writeShort(0)
                                .writeLong(1).writeLong(2).writeByte(0).writeInt(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("unknown push outcome",
                        raw(V, FrameType.PUSH_RESULT.code(), body(b -> b.writeLong(1).writeByte(7))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("REDIRECT with more than 16 addresses",
                        raw(V, FrameType.REDIRECT.code(), body(b -> {
                            b.writeShort(ReasonCode.REGION_MOVED.code()).writeShort(17);
                            for (int i = 0; i < 17; i++) {
                                b.writeShort(1).writeByte('a');
                            }
                        })),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("REDIRECT with fewer addresses than its count",
                        raw(V, FrameType.REDIRECT.code(), body(b -> b.writeShort(0).writeShort(2).writeShort(1).writeByte('a'))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("unassigned type 0x00",
                        raw(V, 0x00, new byte[0]), ReasonCode.UNKNOWN_FRAME_TYPE),
                Arguments.of("reserved type 0x0C",
                        raw(V, 0x0C, new byte[0]), ReasonCode.UNKNOWN_FRAME_TYPE),
                Arguments.of("ACKS with no msgIds",
                        raw(V, FrameType.ACKS.code(), body(b -> b.writeShort(0))), ReasonCode.MALFORMED_FRAME),
                Arguments.of("ACKS with 513 msgIds",
                        raw(V, FrameType.ACKS.code(), body(b -> b.writeShort(513).writeZero(513 * 8))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("ACKS with fewer msgIds than its count",
                        raw(V, FrameType.ACKS.code(), body(b -> b.writeShort(2).writeLong(1))), ReasonCode.MALFORMED_FRAME),
                Arguments.of("ACKS with more msgIds than its count",
                        raw(V, FrameType.ACKS.code(), body(b -> b.writeShort(1).writeLong(1).writeLong(2))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("ACKS with half a msgId",
                        raw(V, FrameType.ACKS.code(), body(b -> b.writeShort(1).writeInt(1))), ReasonCode.MALFORMED_FRAME),
                Arguments.of("flagged CONNACK without its ack fields",
                        rawWithFlags(V, FrameType.CONNACK.code(), FrameHeader.FLAG_ACKS,
                                body(b -> b.writeShort(30).writeLong(1))), ReasonCode.MALFORMED_FRAME),
                Arguments.of("flagged CONNACK with broadcastAckDelayMs 0",
                        rawWithFlags(V, FrameType.CONNACK.code(), FrameHeader.FLAG_ACKS,
                                body(b -> b.writeShort(30).writeLong(1).writeShort(0).writeShort(64))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("flagged CONNACK with maxAcks 0",
                        rawWithFlags(V, FrameType.CONNACK.code(), FrameHeader.FLAG_ACKS,
                                body(b -> b.writeShort(30).writeLong(1).writeShort(50).writeShort(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("flagged CONNACK with maxAcks 513",
                        rawWithFlags(V, FrameType.CONNACK.code(), FrameHeader.FLAG_ACKS,
                                body(b -> b.writeShort(30).writeLong(1).writeShort(50).writeShort(513))),
                        ReasonCode.MALFORMED_FRAME),
                // Why the broker sends the fields only to a device that set the flag in CONNECT.
                Arguments.of("CONNACK ack fields without the flag (an older reader's view)",
                        raw(V, FrameType.CONNACK.code(),
                                body(b -> b.writeShort(30).writeLong(1).writeShort(50).writeShort(64))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("SUBSCRIBE with no tags",
                        raw(V, FrameType.SUBSCRIBE.code(), body(b -> b.writeShort(0))), ReasonCode.MALFORMED_FRAME),
                Arguments.of("SUBSCRIBE with 65 tags",
                        raw(V, FrameType.SUBSCRIBE.code(), body(b -> {
                            b.writeShort(65);
                            for (int i = 0; i < 65; i++) {
                                b.writeShort(1).writeByte('t');
                            }
                        })), ReasonCode.MALFORMED_FRAME),
                Arguments.of("SUBSCRIBE tag with a space",
                        raw(V, FrameType.SUBSCRIBE.code(), body(b -> b.writeShort(1).writeShort(3)
                                .writeBytes("a b".getBytes(StandardCharsets.US_ASCII)))), ReasonCode.MALFORMED_FRAME),
                Arguments.of("SUBSCRIBE empty tag",
                        raw(V, FrameType.SUBSCRIBE.code(), body(b -> b.writeShort(1).writeShort(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("UNSUBSCRIBE tag of 65 chars",
                        raw(V, FrameType.UNSUBSCRIBE.code(), body(b -> b.writeShort(1).writeShort(65)
                                .writeBytes("x".repeat(65).getBytes(StandardCharsets.US_ASCII)))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("UNSUBSCRIBE with fewer tags than its count",
                        raw(V, FrameType.UNSUBSCRIBE.code(), body(b -> b.writeShort(2).writeShort(1).writeByte('a'))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("broadcast PUSH without its broadcastSeq",
                        rawWithFlags(V, FrameType.PUSH.code(), FrameHeader.FLAG_BROADCAST, body(b -> b.writeLong(1)
                                .writeLong(2).writeByte(PayloadKind.DATA.code()).writeInt(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("broadcast PUSH with broadcastSeq 0",
                        rawWithFlags(V, FrameType.PUSH.code(), FrameHeader.FLAG_BROADCAST, body(b -> b.writeLong(1)
                                .writeLong(2).writeByte(PayloadKind.DATA.code()).writeInt(0).writeLong(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("broadcast PUSH with a negative broadcastSeq",
                        rawWithFlags(V, FrameType.PUSH.code(), FrameHeader.FLAG_BROADCAST, body(b -> b.writeLong(1)
                                .writeLong(2).writeByte(PayloadKind.DATA.code()).writeInt(0).writeLong(-5))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("PUSH with a broadcastSeq but no flag",
                        raw(V, FrameType.PUSH.code(), body(b -> b.writeLong(1).writeLong(2)
                                .writeByte(PayloadKind.DATA.code()).writeInt(0).writeLong(7))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("BROADCAST without the broadcast flag",
                        raw(V, FrameType.BROADCAST.code(), body(b -> b.writeLong(1).writeShort(1).writeByte('a')
                                .writeLong(1).writeLong(2).writeByte(PayloadKind.DATA.code()).writeInt(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("PUSH_BATCH with 1001 regIds",
                        raw(V, FrameType.PUSH_BATCH.code(), body(b -> b.writeLong(1).writeShort(1).writeByte('a')
                                .writeLong(1).writeLong(2).writeByte(PayloadKind.DATA.code()).writeInt(0)
                                .writeInt(1001))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("PUSH_BATCH with fewer regIds than its count",
                        raw(V, FrameType.PUSH_BATCH.code(), body(b -> b.writeLong(1).writeShort(1).writeByte('a')
                                .writeLong(1).writeLong(2).writeByte(PayloadKind.DATA.code()).writeInt(0)
                                .writeInt(2).writeShort(1).writeByte('r'))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("PUSH_BATCH_RESULT listing 1001 regIds",
                        raw(V, FrameType.PUSH_BATCH_RESULT.code(), body(b -> b.writeLong(1).writeInt(0).writeInt(1001))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("PUSH_BATCH_RESULT written over 2^31-1",
                        raw(V, FrameType.PUSH_BATCH_RESULT.code(), body(b -> b.writeLong(1).writeInt(-1).writeInt(0))),
                        ReasonCode.MALFORMED_FRAME),
                Arguments.of("BROADCAST_RESULT without written",
                        raw(V, FrameType.BROADCAST_RESULT.code(), new byte[8]), ReasonCode.MALFORMED_FRAME),
                Arguments.of("unassigned type 0xFF",
                        raw(V, 0xFF, new byte[8]), ReasonCode.UNKNOWN_FRAME_TYPE),
                Arguments.of("version 0",
                        raw(0, FrameType.PING.code(), new byte[0]), ReasonCode.UNSUPPORTED_VERSION),
                Arguments.of("version 2",
                        raw(2, FrameType.PING.code(), new byte[0]), ReasonCode.UNSUPPORTED_VERSION),
                Arguments.of("an HTTP request",
                        "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII), ReasonCode.UNSUPPORTED_VERSION),
                Arguments.of("a TLS ClientHello",
                        new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xFC, 0x03, 0x03},
                        ReasonCode.UNSUPPORTED_VERSION),
                Arguments.of("declared length over the limit",
                        header(V, FrameType.PUSH.code(), FrameHeader.DEFAULT_MAX_BODY + 1), ReasonCode.FRAME_TOO_LARGE),
                Arguments.of("declared length 0xFFFFFFFF",
                        header(V, FrameType.PUSH.code(), 0xFFFFFFFFL), ReasonCode.FRAME_TOO_LARGE));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("malformed")
    void malformedInputYieldsOneFailureAndDiscardsTheRest(String what, byte[] bad, ReasonCode expected) {
        ByteBuf first = Unpooled.wrappedBuffer(concat(bad, GOOD));
        assertTrue(channel.writeInbound(first));

        DecodeFailure failure = assertInstanceOf(DecodeFailure.class, channel.readInbound());
        assertEquals(expected, failure.reason());
        assertFalse(failure.detail().isEmpty());
        assertNull(channel.readInbound(), "the good frame after the bad bytes is not decoded");
        assertEquals(0, first.refCnt());

        ByteBuf later = Unpooled.wrappedBuffer(GOOD);
        assertFalse(channel.writeInbound(later), "the stream is never resynchronised");
        assertEquals(0, later.refCnt());
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("malformed")
    void malformedInputFedByteByByteYieldsTheSameSingleFailure(String what, byte[] bad, ReasonCode expected) {
        for (byte b : concat(bad, GOOD)) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        DecodeFailure failure = assertInstanceOf(DecodeFailure.class, channel.readInbound());
        assertEquals(expected, failure.reason());
        assertNull(channel.readInbound());
    }

    @Test
    void framesBeforeTheBadOneStillDecode() {
        byte[] bad = raw(2, FrameType.PING.code(), new byte[0]);
        channel.writeInbound(Unpooled.wrappedBuffer(concat(GOOD, GOOD, bad, GOOD)));
        assertEquals(new Frame.Ack(7), channel.readInbound());
        assertEquals(new Frame.Ack(7), channel.readInbound());
        assertEquals(ReasonCode.UNSUPPORTED_VERSION, ((DecodeFailure) channel.readInbound()).reason());
        assertNull(channel.readInbound());
    }

    @Test
    void oversizedLengthFailsAsSoonAsTheHeaderArrives() {
        byte[] head = header(V, FrameType.PUSH.code(), FrameHeader.DEFAULT_MAX_BODY + 1);
        assertFalse(channel.writeInbound(Unpooled.wrappedBuffer(head, 0, FrameHeader.SIZE - 1)));
        assertTrue(channel.writeInbound(Unpooled.wrappedBuffer(head, FrameHeader.SIZE - 1, 1)),
                "no waiting for a body that would be too large");
        assertEquals(ReasonCode.FRAME_TOO_LARGE, ((DecodeFailure) channel.readInbound()).reason());

        ByteBuf body = Unpooled.wrappedBuffer(new byte[FrameHeader.DEFAULT_MAX_BODY + 1]);
        assertFalse(channel.writeInbound(body));
        assertEquals(0, body.refCnt());
    }

    @Test
    void configuredLimitIsInclusive() {
        EmbeddedChannel small = new EmbeddedChannel(new FrameDecoder(64));
        // PUSH body = 8 + 8 + 1 + 4 + payload: 43 payload bytes make a 64-byte body.
        Frame atLimit = new Frame.Push(1, 2, PayloadKind.DATA, new byte[43]);
        small.writeInbound(Unpooled.wrappedBuffer(encodeToBytes(atLimit)));
        assertEquals(atLimit, small.readInbound());

        small.writeInbound(Unpooled.wrappedBuffer(encodeToBytes(new Frame.Push(1, 2, PayloadKind.DATA, new byte[44]))));
        assertEquals(ReasonCode.FRAME_TOO_LARGE, ((DecodeFailure) small.readInbound()).reason());
        assertFalse(small.finishAndReleaseAll());
    }

    @Test
    void unknownReasonCodeInDisconnectDecodesAsInternalError() {
        byte[] disconnect = raw(V, FrameType.DISCONNECT.code(), body(b -> b.writeShort(999).writeShort(0)));
        channel.writeInbound(Unpooled.wrappedBuffer(disconnect));
        assertEquals(new Frame.Disconnect(ReasonCode.INTERNAL_ERROR, ""), channel.readInbound());
    }

    @Test
    void flagsAreIgnoredByVersionOneDecoders() {
        byte[] ping = encodeToBytes(Frame.Ping.INSTANCE);
        ping[FrameHeader.FLAGS_OFFSET] = (byte) 0x80;
        ping[FrameHeader.FLAGS_OFFSET + 1] = 0x01;
        channel.writeInbound(Unpooled.wrappedBuffer(ping));
        assertEquals(Frame.Ping.INSTANCE, channel.readInbound());
    }

    @Test
    void unknownFlagBitsAreIgnoredOnAPush() {
        byte[] push = encodeToBytes(new Frame.Push(1, 2, PayloadKind.DATA, new byte[] {3}));
        push[FrameHeader.FLAGS_OFFSET] = (byte) 0x80;
        channel.writeInbound(Unpooled.wrappedBuffer(push));
        assertEquals(new Frame.Push(1, 2, PayloadKind.DATA, new byte[] {3}), channel.readInbound());
    }

    @Test
    void theCountAcksFlagMeansNothingOutsideABroadcast() {
        byte[] push = encodeToBytes(new Frame.Push(1, 2, PayloadKind.DATA, new byte[] {3}));
        push[FrameHeader.FLAGS_OFFSET + 1] = FrameHeader.FLAG_COUNT_ACKS;
        channel.writeInbound(Unpooled.wrappedBuffer(push));
        assertEquals(new Frame.Push(1, 2, PayloadKind.DATA, new byte[] {3}), channel.readInbound());
    }

    @Test
    void theAcksFlagAddsNoFieldToConnectAndMeansNothingElsewhere() {
        byte[] connect = encodeToBytes(new Frame.Connect("a", "r", "t", 5));
        connect[FrameHeader.FLAGS_OFFSET + 1] = FrameHeader.FLAG_ACKS;
        byte[] ack = encodeToBytes(new Frame.Ack(9));
        ack[FrameHeader.FLAGS_OFFSET + 1] = FrameHeader.FLAG_ACKS;
        channel.writeInbound(Unpooled.wrappedBuffer(concat(connect, ack)));
        assertEquals(new Frame.Connect("a", "r", "t", 5, true), channel.readInbound());
        assertEquals(new Frame.Ack(9), channel.readInbound());
    }

    @Test
    void internalLimitTakesAFullPushBatch() {
        Frame.PushBatch batch = new Frame.PushBatch(1, "app", new Frame.Push(1, 2, PayloadKind.DATA, new byte[4096]),
                java.util.Collections.nCopies(Frame.PushBatch.MAX_REG_IDS, "r".repeat(128)));
        byte[] bytes = encodeToBytes(batch);
        assertTrue(bytes.length > FrameHeader.DEFAULT_MAX_BODY);
        EmbeddedChannel internal = new EmbeddedChannel(new FrameDecoder(FrameHeader.INTERNAL_MAX_BODY));
        internal.writeInbound(Unpooled.wrappedBuffer(bytes));
        assertEquals(batch, internal.readInbound());
        assertFalse(internal.finishAndReleaseAll());
    }

    @Test
    void failureOnOneChannelLeavesAFreshDecoderOnAnotherUntouched() {
        channel.writeInbound(Unpooled.wrappedBuffer(raw(2, FrameType.PING.code(), new byte[0])));
        assertEquals(ReasonCode.UNSUPPORTED_VERSION, ((DecodeFailure) channel.readInbound()).reason());

        EmbeddedChannel other = new EmbeddedChannel(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY));
        for (Frame f : TestFrames.everyType()) {
            other.writeInbound(Unpooled.wrappedBuffer(encodeToBytes(f)));
            assertEquals(f, other.readInbound());
        }
        assertFalse(other.finishAndReleaseAll());

        assertFalse(channel.writeInbound(Unpooled.wrappedBuffer(GOOD)), "the failed channel stays failed");
    }

    @Test
    void partialFrameAtCloseIsDroppedWithoutAFailure() {
        byte[] good = encodeToBytes(new Frame.Connect("a", "r", "t", 1));
        channel.writeInbound(Unpooled.wrappedBuffer(good, 0, good.length - 1));
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 63, FrameHeader.ABSOLUTE_MAX_BODY + 1, Integer.MAX_VALUE})
    void constructorRejectsOutOfRangeLimits(int max) {
        assertThrows(IllegalArgumentException.class, () -> new FrameDecoder(max));
    }

    @ParameterizedTest
    @ValueSource(ints = {64, FrameHeader.DEFAULT_MAX_BODY, FrameHeader.ABSOLUTE_MAX_BODY})
    void constructorAcceptsLimitsInRange(int max) {
        assertDoesNotThrow(() -> new FrameDecoder(max));
    }
}
