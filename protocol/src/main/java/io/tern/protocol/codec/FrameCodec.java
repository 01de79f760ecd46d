package io.tern.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.ByteBufAllocator;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.frame.Tags;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Body layouts of every frame type; stateless and allocation-light. See protocol/README.md. */
public final class FrameCodec {
    /** Longest string field in bytes (appId, regId, token, address, reason message). */
    public static final int MAX_STRING_BYTES = 2048;
    /** Most addresses a REDIRECT may carry. */
    public static final int MAX_REDIRECT_ADDRESSES = 16;

    private FrameCodec() {
    }

    /** Encodes header and body of {@code frame} into a new buffer from {@code alloc}. */
    public static ByteBuf encode(Frame frame, ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(FrameHeader.SIZE + estimateBody(frame));
        try {
            encode(frame, out);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /**
     * Writes header and body of {@code frame} at {@code out}'s writer index.
     *
     * @throws IllegalArgumentException when a field does not fit its wire type; {@code out} is
     *                                  then left as it was
     */
    public static void encode(Frame frame, ByteBuf out) {
        int start = out.writerIndex();
        try {
            out.writeByte(FrameHeader.VERSION);
            out.writeByte(frame.type().code());
            out.writeShort(flags(frame));
            out.writeInt(0); // length, patched below
            int bodyStart = out.writerIndex();
            writeBody(frame, out);
            out.setInt(start + FrameHeader.LENGTH_OFFSET, out.writerIndex() - bodyStart);
        } catch (RuntimeException e) {
            out.writerIndex(start);
            throw e;
        }
    }

    /**
     * The header flags: {@link FrameHeader#FLAG_BROADCAST} for frames whose PUSH is a broadcast,
     * {@link FrameHeader#FLAG_COUNT_ACKS} for a BROADCAST whose acks may be counted,
     * {@link FrameHeader#FLAG_ACKS} for a CONNECT / CONNACK that offers / accepts ACKS.
     */
    private static int flags(Frame frame) {
        Frame.Push p = embeddedPush(frame);
        int flags = p != null && p.broadcastSeq() > 0 ? FrameHeader.FLAG_BROADCAST : 0;
        if (frame instanceof Frame.Broadcast b && b.countAcks()) {
            flags |= FrameHeader.FLAG_COUNT_ACKS;
        }
        if (frame instanceof Frame.Connect c && c.cumulativeAcks()
                || frame instanceof Frame.ConnAck a && a.cumulativeAcks()) {
            flags |= FrameHeader.FLAG_ACKS;
        }
        return flags;
    }

    private static Frame.Push embeddedPush(Frame frame) {
        switch (frame.type()) {
            case PUSH:
                return (Frame.Push) frame;
            case PUSH_COMMAND:
                return ((Frame.PushCommand) frame).push();
            case PUSH_BATCH:
                return ((Frame.PushBatch) frame).push();
            case BROADCAST:
                return ((Frame.Broadcast) frame).push();
            default:
                return null;
        }
    }

    private static int estimateBody(Frame frame) {
        if (frame instanceof Frame.Push p) {
            return 29 + p.payload().length;
        }
        if (frame instanceof Frame.PushCommand c) {
            return 44 + c.appId().length() + c.regId().length() + c.push().payload().length;
        }
        if (frame instanceof Frame.PushBatch b) {
            return 48 + b.appId().length() + b.push().payload().length + b.regIds().size() * 40;
        }
        if (frame instanceof Frame.Broadcast b) {
            return 40 + b.appId().length() + b.push().payload().length;
        }
        if (frame instanceof Frame.PushBatchResult r) {
            return 16 + r.notConnected().size() * 40;
        }
        if (frame instanceof Frame.Acks a) {
            return 2 + a.msgIds().length * 8;
        }
        if (frame instanceof Frame.Connect c) {
            return 16 + c.appId().length() + c.regId().length() + c.token().length();
        }
        return 32;
    }

    // Java 17 has no pattern switch: dispatch on the type code, then cast.
    private static void writeBody(Frame frame, ByteBuf out) {
        switch (frame.type()) {
            case CONNECT -> {
                Frame.Connect c = (Frame.Connect) frame;
                writeString(out, c.appId());
                writeString(out, c.regId());
                writeString(out, c.token());
                out.writeLong(c.lastBroadcastSeq());
            }
            case CONNACK -> {
                Frame.ConnAck a = (Frame.ConnAck) frame;
                if (a.heartbeatSeconds() < 0 || a.heartbeatSeconds() > 0xFFFF) {
                    throw new IllegalArgumentException("heartbeatSeconds " + a.heartbeatSeconds() + " is not a u16");
                }
                out.writeShort(a.heartbeatSeconds());
                out.writeLong(a.serverTimeMillis());
                if (a.cumulativeAcks()) { // announced by FLAG_ACKS in the header
                    out.writeShort(a.broadcastAckDelayMs());
                    out.writeShort(a.maxAcks());
                }
            }
            case PING, PONG -> {
            }
            case PUSH -> writePush(out, (Frame.Push) frame);
            case ACK -> out.writeLong(((Frame.Ack) frame).msgId());
            case ACKS -> {
                long[] ids = ((Frame.Acks) frame).msgIds();
                out.writeShort(ids.length);
                for (long id : ids) {
                    out.writeLong(id);
                }
            }
            case REDIRECT -> {
                Frame.Redirect r = (Frame.Redirect) frame;
                if (r.addresses().size() > MAX_REDIRECT_ADDRESSES) {
                    throw new IllegalArgumentException("REDIRECT lists " + r.addresses().size()
                            + " addresses, max " + MAX_REDIRECT_ADDRESSES);
                }
                out.writeShort(r.reason().code());
                out.writeShort(r.addresses().size());
                for (String a : r.addresses()) {
                    writeString(out, a);
                }
            }
            case DISCONNECT -> {
                Frame.Disconnect d = (Frame.Disconnect) frame;
                out.writeShort(d.reason().code());
                writeString(out, d.message());
            }
            case PUSH_COMMAND -> {
                Frame.PushCommand c = (Frame.PushCommand) frame;
                out.writeLong(c.correlationId());
                writeString(out, c.appId());
                writeString(out, c.regId());
                writePush(out, c.push());
            }
            case PUSH_RESULT -> {
                Frame.PushResult r = (Frame.PushResult) frame;
                out.writeLong(r.correlationId());
                out.writeByte(r.outcome().code());
            }
            case SUBSCRIBE -> writeTags(out, ((Frame.Subscribe) frame).tags());
            case UNSUBSCRIBE -> writeTags(out, ((Frame.Unsubscribe) frame).tags());
            case PUSH_BATCH -> {
                Frame.PushBatch b = (Frame.PushBatch) frame;
                requireCount("PUSH_BATCH regIds", b.regIds().size(), Frame.PushBatch.MAX_REG_IDS);
                out.writeLong(b.correlationId());
                writeString(out, b.appId());
                writePush(out, b.push());
                out.writeInt(b.regIds().size());
                for (String r : b.regIds()) {
                    writeString(out, r);
                }
            }
            case PUSH_BATCH_RESULT -> {
                Frame.PushBatchResult r = (Frame.PushBatchResult) frame;
                requireCount("PUSH_BATCH_RESULT notConnected", r.notConnected().size(), Frame.PushBatch.MAX_REG_IDS);
                if (r.written() < 0) {
                    throw new IllegalArgumentException("written " + r.written() + " is negative");
                }
                out.writeLong(r.correlationId());
                out.writeInt(r.written());
                out.writeInt(r.notConnected().size());
                for (String id : r.notConnected()) {
                    writeString(out, id);
                }
            }
            case BROADCAST -> {
                Frame.Broadcast b = (Frame.Broadcast) frame;
                if (b.push().broadcastSeq() <= 0) {
                    throw new IllegalArgumentException("BROADCAST push needs a broadcastSeq > 0");
                }
                out.writeLong(b.correlationId());
                writeString(out, b.appId());
                writePush(out, b.push());
            }
            case BROADCAST_RESULT -> {
                Frame.BroadcastResult r = (Frame.BroadcastResult) frame;
                if (r.written() < 0) {
                    throw new IllegalArgumentException("written " + r.written() + " is negative");
                }
                out.writeLong(r.correlationId());
                out.writeInt(r.written());
            }
            case LINK_CHALLENGE -> out.writeBytes(((Frame.LinkChallenge) frame).nonce());
            case LINK_AUTH -> {
                Frame.LinkAuth a = (Frame.LinkAuth) frame;
                writeString(out, a.peerId());
                out.writeBytes(a.nonce());
                out.writeBytes(a.proof());
            }
            case LINK_ACCEPT -> out.writeBytes(((Frame.LinkAccept) frame).proof());
        }
    }

    private static byte[] readLinkBytes(ByteBuf body, String field) {
        if (body.readableBytes() < Frame.LINK_NONCE_BYTES) {
            throw malformed(field + " is truncated");
        }
        byte[] b = new byte[Frame.LINK_NONCE_BYTES];
        body.readBytes(b);
        return b;
    }

    private static void requireCount(String what, int n, int max) {
        if (n > max) {
            throw new IllegalArgumentException(what + " lists " + n + ", max " + max);
        }
    }

    private static void writeTags(ByteBuf out, List<String> tags) {
        String problem = Tags.problem(tags);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        out.writeShort(tags.size());
        for (String t : tags) {
            writeString(out, t);
        }
    }

    private static List<String> readTags(ByteBuf body, FrameType type) {
        int n = body.readUnsignedShort();
        if (n < 1 || n > Tags.MAX_PER_FRAME) {
            throw malformed(type + " lists " + n + " tags, must be 1.." + Tags.MAX_PER_FRAME);
        }
        List<String> tags = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String t = readString(body, "tag");
            if (!Tags.isValid(t)) {
                throw malformed(type + " tag " + i + " must match [A-Za-z0-9._:-]{1," + Tags.MAX_LENGTH + "}");
            }
            tags.add(t);
        }
        return tags;
    }

    private static List<String> readStrings(ByteBuf body, String what, int max) {
        long n = body.readUnsignedInt();
        if (n > max) {
            throw malformed(what + " lists " + n + ", max " + max);
        }
        List<String> list = new ArrayList<>((int) n);
        for (int i = 0; i < n; i++) {
            list.add(readString(body, what));
        }
        return list;
    }

    private static int readCount(ByteBuf body, String what) {
        long n = body.readUnsignedInt();
        if (n > Integer.MAX_VALUE) {
            throw malformed(what + " " + n + " is out of range");
        }
        return (int) n;
    }

    private static void writePush(ByteBuf out, Frame.Push p) {
        out.writeLong(p.msgId());
        out.writeLong(p.expiresAtMillis());
        out.writeByte(p.kind().code());
        out.writeInt(p.payload().length);
        out.writeBytes(p.payload());
        if (p.broadcastSeq() > 0) {
            out.writeLong(p.broadcastSeq()); // announced by FLAG_BROADCAST in the header
        }
    }

    /**
     * Decodes one body of {@code type}; reads exactly {@code body}'s readable bytes.
     *
     * @throws MalformedFrameException when the body is truncated, has trailing bytes or bad fields
     */
    public static Frame decodeBody(FrameType type, int flags, ByteBuf body) {
        try {
            Frame f = switch (type) {
                case CONNECT -> new Frame.Connect(readString(body, "appId"), readString(body, "regId"),
                        readString(body, "token"), body.readLong(), (flags & FrameHeader.FLAG_ACKS) != 0);
                case CONNACK -> readConnAck(body, flags);
                case PING -> Frame.Ping.INSTANCE;
                case PONG -> Frame.Pong.INSTANCE;
                case PUSH -> readPush(body, flags);
                case ACK -> new Frame.Ack(body.readLong());
                case ACKS -> readAcks(body);
                case REDIRECT -> {
                    ReasonCode reason = ReasonCode.fromCode(body.readUnsignedShort());
                    int n = body.readUnsignedShort();
                    if (n > MAX_REDIRECT_ADDRESSES) {
                        throw malformed("REDIRECT lists " + n + " addresses, max " + MAX_REDIRECT_ADDRESSES);
                    }
                    List<String> addresses = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        addresses.add(readString(body, "address"));
                    }
                    yield new Frame.Redirect(reason, addresses);
                }
                case DISCONNECT -> new Frame.Disconnect(ReasonCode.fromCode(body.readUnsignedShort()),
                        readString(body, "message"));
                case PUSH_COMMAND -> new Frame.PushCommand(body.readLong(), readString(body, "appId"),
                        readString(body, "regId"), readPush(body, flags));
                case PUSH_RESULT -> {
                    long correlationId = body.readLong();
                    int code = body.readUnsignedByte();
                    PushOutcome outcome = PushOutcome.fromCode(code);
                    if (outcome == null) {
                        throw malformed("unknown push outcome " + code);
                    }
                    yield new Frame.PushResult(correlationId, outcome);
                }
                case SUBSCRIBE -> new Frame.Subscribe(readTags(body, type));
                case UNSUBSCRIBE -> new Frame.Unsubscribe(readTags(body, type));
                case PUSH_BATCH -> new Frame.PushBatch(body.readLong(), readString(body, "appId"),
                        readPush(body, flags), readStrings(body, "regIds", Frame.PushBatch.MAX_REG_IDS));
                case PUSH_BATCH_RESULT -> new Frame.PushBatchResult(body.readLong(), readCount(body, "written"),
                        readStrings(body, "notConnected", Frame.PushBatch.MAX_REG_IDS));
                case BROADCAST -> {
                    long correlationId = body.readLong();
                    String appId = readString(body, "appId");
                    Frame.Push push = readPush(body, flags);
                    if (!push.isBroadcast()) {
                        throw malformed("BROADCAST push has no broadcastSeq (flag not set)");
                    }
                    yield new Frame.Broadcast(correlationId, appId, push, (flags & FrameHeader.FLAG_COUNT_ACKS) != 0);
                }
                case BROADCAST_RESULT -> new Frame.BroadcastResult(body.readLong(), readCount(body, "written"));
                case LINK_CHALLENGE -> new Frame.LinkChallenge(readLinkBytes(body, "nonce"));
                case LINK_AUTH -> new Frame.LinkAuth(readString(body, "peerId"), readLinkBytes(body, "nonce"),
                        readLinkBytes(body, "proof"));
                case LINK_ACCEPT -> new Frame.LinkAccept(readLinkBytes(body, "proof"));
            };
            if (body.isReadable()) {
                throw malformed(type + " body has " + body.readableBytes() + " trailing bytes");
            }
            return f;
        } catch (IndexOutOfBoundsException e) {
            throw malformed(type + " body is truncated");
        }
    }

    private static Frame.ConnAck readConnAck(ByteBuf body, int flags) {
        int heartbeatSeconds = body.readUnsignedShort();
        long serverTime = body.readLong();
        if ((flags & FrameHeader.FLAG_ACKS) == 0) {
            return new Frame.ConnAck(heartbeatSeconds, serverTime);
        }
        int delayMs = body.readUnsignedShort();
        int maxAcks = body.readUnsignedShort();
        if (delayMs < 1 || maxAcks < 1 || maxAcks > Frame.Acks.MAX_IDS) {
            throw malformed("CONNACK broadcastAckDelayMs " + delayMs + " must be >= 1 and maxAcks " + maxAcks
                    + " in [1, " + Frame.Acks.MAX_IDS + "]");
        }
        return new Frame.ConnAck(heartbeatSeconds, serverTime, delayMs, maxAcks);
    }

    private static Frame.Acks readAcks(ByteBuf body) {
        int n = body.readUnsignedShort();
        if (n < 1 || n > Frame.Acks.MAX_IDS) {
            throw malformed("ACKS lists " + n + " msgIds, must be 1.." + Frame.Acks.MAX_IDS);
        }
        if (body.readableBytes() != n * 8L) {
            throw malformed("ACKS of " + n + " msgIds has " + body.readableBytes() + " bytes of ids, not " + n * 8);
        }
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = body.readLong();
        }
        return new Frame.Acks(ids);
    }

    private static Frame.Push readPush(ByteBuf body, int flags) {
        long msgId = body.readLong();
        long expiresAt = body.readLong();
        int kindCode = body.readUnsignedByte();
        PayloadKind kind = PayloadKind.fromCode(kindCode);
        if (kind == null) {
            throw malformed("unknown payload kind " + kindCode);
        }
        int len = body.readInt();
        if (len < 0 || len > body.readableBytes()) {
            throw malformed("payload length " + len + " exceeds body");
        }
        byte[] payload = new byte[len];
        body.readBytes(payload);
        long broadcastSeq = 0;
        if ((flags & FrameHeader.FLAG_BROADCAST) != 0) {
            broadcastSeq = body.readLong();
            if (broadcastSeq <= 0) {
                throw malformed("broadcastSeq " + broadcastSeq + " must be > 0");
            }
        }
        return new Frame.Push(msgId, expiresAt, kind, payload, broadcastSeq);
    }

    private static void writeString(ByteBuf out, String s) {
        int lenIndex = out.writerIndex();
        out.writeShort(0);
        int n = out.writeCharSequence(s, StandardCharsets.UTF_8);
        if (n > MAX_STRING_BYTES) {
            throw new IllegalArgumentException("string of " + n + " bytes exceeds " + MAX_STRING_BYTES);
        }
        out.setShort(lenIndex, n);
    }

    private static String readString(ByteBuf in, String field) {
        int n = in.readUnsignedShort();
        if (n > MAX_STRING_BYTES) {
            throw malformed(field + " is " + n + " bytes, max " + MAX_STRING_BYTES);
        }
        if (n > in.readableBytes()) {
            throw malformed(field + " is truncated");
        }
        // Strict: a lenient decode would turn bad bytes into U+FFFD, so two different byte
        // strings would name the same appId / regId and the frame would not re-encode to itself.
        if (!ByteBufUtil.isText(in, in.readerIndex(), n, StandardCharsets.UTF_8)) {
            throw malformed(field + " is not valid UTF-8");
        }
        return in.readCharSequence(n, StandardCharsets.UTF_8).toString();
    }

    private static MalformedFrameException malformed(String message) {
        return new MalformedFrameException(ReasonCode.MALFORMED_FRAME, message);
    }
}
