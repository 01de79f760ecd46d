package io.tern.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;

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
            out.writeShort(0);
            out.writeInt(0); // length, patched below
            int bodyStart = out.writerIndex();
            writeBody(frame, out);
            out.setInt(start + FrameHeader.LENGTH_OFFSET, out.writerIndex() - bodyStart);
        } catch (RuntimeException e) {
            out.writerIndex(start);
            throw e;
        }
    }

    private static int estimateBody(Frame frame) {
        if (frame instanceof Frame.Push p) {
            return 21 + p.payload().length;
        }
        if (frame instanceof Frame.PushCommand c) {
            return 36 + c.appId().length() + c.regId().length() + c.push().payload().length;
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
            }
            case PING, PONG -> {
            }
            case PUSH -> writePush(out, (Frame.Push) frame);
            case ACK -> out.writeLong(((Frame.Ack) frame).msgId());
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
        }
    }

    private static void writePush(ByteBuf out, Frame.Push p) {
        out.writeLong(p.msgId());
        out.writeLong(p.expiresAtMillis());
        out.writeByte(p.kind().code());
        out.writeInt(p.payload().length);
        out.writeBytes(p.payload());
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
                        readString(body, "token"), body.readLong());
                case CONNACK -> new Frame.ConnAck(body.readUnsignedShort(), body.readLong());
                case PING -> Frame.Ping.INSTANCE;
                case PONG -> Frame.Pong.INSTANCE;
                case PUSH -> readPush(body);
                case ACK -> new Frame.Ack(body.readLong());
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
                        readString(body, "regId"), readPush(body));
                case PUSH_RESULT -> {
                    long correlationId = body.readLong();
                    int code = body.readUnsignedByte();
                    PushOutcome outcome = PushOutcome.fromCode(code);
                    if (outcome == null) {
                        throw malformed("unknown push outcome " + code);
                    }
                    yield new Frame.PushResult(correlationId, outcome);
                }
            };
            if (body.isReadable()) {
                throw malformed(type + " body has " + body.readableBytes() + " trailing bytes");
            }
            return f;
        } catch (IndexOutOfBoundsException e) {
            throw malformed(type + " body is truncated");
        }
    }

    private static Frame.Push readPush(ByteBuf body) {
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
        return new Frame.Push(msgId, expiresAt, kind, payload);
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
        return in.readCharSequence(n, StandardCharsets.UTF_8).toString();
    }

    private static MalformedFrameException malformed(String message) {
        return new MalformedFrameException(ReasonCode.MALFORMED_FRAME, message);
    }
}
