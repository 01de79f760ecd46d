package io.tern.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.frame.Tags;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Sample frames and raw wire bytes shared by the codec tests. */
public final class TestFrames {
    public static final String UNICODE = "ünïcødé 日本語 👋";

    private TestFrames() {
    }

    /** At least one frame of every type, with unicode strings, empty strings and empty payloads. */
    public static List<Frame> everyType() {
        Frame.Push push = new Frame.Push(1L << 62, 1_700_000_000_000L, PayloadKind.NOTIFICATION,
                ("{\"title\":\"" + UNICODE + "\",\"body\":\"hi\"}").getBytes(StandardCharsets.UTF_8));
        return List.of(
                new Frame.Connect("app-1", "reg-" + UNICODE, "claims.signature", 42L),
                new Frame.Connect("", "", "", -1L),
                new Frame.ConnAck(30, 1_700_000_000_123L),
                new Frame.ConnAck(0xFFFF, Long.MIN_VALUE),
                Frame.Ping.INSTANCE,
                Frame.Pong.INSTANCE,
                push,
                new Frame.Push(-7L, 0L, PayloadKind.DATA, new byte[0]),
                new Frame.Ack(Long.MAX_VALUE),
                new Frame.Redirect(ReasonCode.REGION_MOVED, List.of("10.0.0.1:7000", "broker-" + UNICODE + ":7000")),
                new Frame.Redirect(ReasonCode.SERVER_SHUTTING_DOWN, List.of()),
                new Frame.Disconnect(ReasonCode.IDLE_TIMEOUT, "no frame for 90 s — " + UNICODE),
                new Frame.Disconnect(ReasonCode.OK, ""),
                new Frame.PushCommand(99L, "app-1", "reg-" + UNICODE, push),
                new Frame.PushCommand(0L, "", "", new Frame.Push(1L, 2L, PayloadKind.DATA, new byte[0])),
                new Frame.PushResult(99L, PushOutcome.WRITTEN),
                new Frame.PushResult(100L, PushOutcome.NOT_CONNECTED),
                new Frame.PushResult(-1L, PushOutcome.BACKPRESSURE),
                // Group push (appended: tests index the list above).
                push.withBroadcastSeq(1),
                new Frame.Push(5L, 6L, PayloadKind.DATA, new byte[0], Long.MAX_VALUE),
                new Frame.PushCommand(7L, "app-1", "r", push.withBroadcastSeq(3)),
                new Frame.Subscribe(List.of("news")),
                new Frame.Subscribe(List.of("a.b_c:d-E9", "x".repeat(Tags.MAX_LENGTH))),
                new Frame.Unsubscribe(List.of("sports", "city:berlin")),
                new Frame.PushBatch(11L, "app-1", push, List.of("r1", "reg-" + UNICODE, "")),
                new Frame.PushBatch(12L, "", new Frame.Push(1L, 2L, PayloadKind.DATA, new byte[0], 9L), List.of()),
                new Frame.PushBatchResult(11L, 2, List.of("reg-" + UNICODE)),
                new Frame.PushBatchResult(-3L, 0, List.of()),
                new Frame.Broadcast(13L, "app-1", push.withBroadcastSeq(42)),
                new Frame.Broadcast(15L, "app-1", push.withBroadcastSeq(43), true),
                new Frame.BroadcastResult(13L, 300),
                new Frame.BroadcastResult(14L, Integer.MAX_VALUE),
                new Frame.LinkChallenge(linkBytes(1)),
                new Frame.LinkAuth("logic-" + UNICODE, linkBytes(2), linkBytes(3)),
                new Frame.LinkAuth("", linkBytes(0), linkBytes(-1)),
                new Frame.LinkAccept(linkBytes(4)),
                // Cumulative broadcast acks (appended: tests index the list above).
                new Frame.Connect("app-1", "r", "t", 7L, true),
                new Frame.ConnAck(30, 1_700_000_000_123L, 50, 64),
                new Frame.ConnAck(0xFFFF, -1L, Frame.ConnAck.MAX_BROADCAST_ACK_DELAY_MS, Frame.Acks.MAX_IDS),
                new Frame.Acks(new long[] {Long.MAX_VALUE}),
                new Frame.Acks(new long[] {1L, -1L, 0L, Long.MIN_VALUE}),
                new Frame.Acks(java.util.stream.LongStream.range(0, Frame.Acks.MAX_IDS).toArray()));
    }

    /** {@link Frame#LINK_NONCE_BYTES} bytes, each {@code fill}. */
    public static byte[] linkBytes(int fill) {
        byte[] b = new byte[Frame.LINK_NONCE_BYTES];
        java.util.Arrays.fill(b, (byte) fill);
        return b;
    }

    public static ByteBuf encode(Frame frame) {
        ByteBuf buf = Unpooled.buffer();
        FrameCodec.encode(frame, buf);
        return buf;
    }

    public static byte[] encodeToBytes(Frame frame) {
        ByteBuf buf = encode(frame);
        try {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    /** A header declaring exactly {@code body.length} bytes, followed by {@code body}. */
    public static byte[] raw(int version, int type, byte[] body) {
        return concat(header(version, type, body.length), body);
    }

    /** Only the 8 header bytes, with any declared length. */
    public static byte[] header(int version, int type, long declaredLength) {
        return header(version, type, 0, declaredLength);
    }

    /** Only the 8 header bytes, with flags and any declared length. */
    public static byte[] header(int version, int type, int flags, long declaredLength) {
        ByteBuf buf = Unpooled.buffer(FrameHeader.SIZE);
        buf.writeByte(version).writeByte(type).writeShort(flags).writeInt((int) declaredLength);
        return buf.array();
    }

    /** A header with {@code flags} declaring exactly {@code body.length} bytes, followed by {@code body}. */
    public static byte[] rawWithFlags(int version, int type, int flags, byte[] body) {
        return concat(header(version, type, flags, body.length), body);
    }

    /** Builds a body from big-endian fields: use a {@link ByteBuf} writer. */
    public static byte[] body(java.util.function.Consumer<ByteBuf> writer) {
        ByteBuf buf = Unpooled.buffer();
        writer.accept(buf);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    public static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
