package io.tern.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.frame.ReasonCode;

import java.util.List;

/**
 * Cuts the byte stream into frames and decodes them. Malformed input yields one
 * {@link DecodeFailure} and every later byte is discarded: after a bad header the stream
 * cannot be trusted, and the handler closes the connection with the failure's reason.
 * Not sharable: it keeps per-connection state. Open for a subclass that also encodes (one
 * handler where a connection would otherwise need two); decoding stays as it is here.
 */
public class FrameDecoder extends ByteToMessageDecoder {
    private final int maxBodySize;
    private boolean failed;

    public FrameDecoder(int maxBodySize) {
        if (maxBodySize < 64 || maxBodySize > FrameHeader.ABSOLUTE_MAX_BODY) {
            throw new IllegalArgumentException("maxBodySize must be in [64, " + FrameHeader.ABSOLUTE_MAX_BODY
                    + "]: " + maxBodySize);
        }
        this.maxBodySize = maxBodySize;
    }

    /**
     * A failure raised in front of this decoder (the WebSocket {@code Unwrap} refusing a text
     * message) ends the stream just like one found here: it is passed on once, and every later
     * byte and failure is discarded.
     */
    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof DecodeFailure) {
            if (!failed) {
                failed = true;
                ctx.fireChannelRead(msg);
            }
            return;
        }
        super.channelRead(ctx, msg);
    }

    @Override
    protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= FrameHeader.SIZE) {
            int start = in.readerIndex();
            int version = in.getUnsignedByte(start + FrameHeader.VERSION_OFFSET);
            if (version != FrameHeader.VERSION) {
                fail(in, out, ReasonCode.UNSUPPORTED_VERSION, "version " + version);
                return;
            }
            int typeCode = in.getUnsignedByte(start + FrameHeader.TYPE_OFFSET);
            FrameType type = FrameType.fromCode(typeCode);
            if (type == null) {
                fail(in, out, ReasonCode.UNKNOWN_FRAME_TYPE, "type 0x" + Integer.toHexString(typeCode));
                return;
            }
            long length = in.getUnsignedInt(start + FrameHeader.LENGTH_OFFSET);
            if (length > maxBodySize) {
                fail(in, out, ReasonCode.FRAME_TOO_LARGE, "body " + length + " bytes, max " + maxBodySize);
                return;
            }
            if (in.readableBytes() < FrameHeader.SIZE + length) {
                return; // wait for the rest
            }
            int flags = in.getUnsignedShort(start + FrameHeader.FLAGS_OFFSET);
            in.skipBytes(FrameHeader.SIZE);
            ByteBuf body = in.readSlice((int) length);
            try {
                out.add(FrameCodec.decodeBody(type, flags, body));
            } catch (MalformedFrameException e) {
                fail(in, out, e.reason(), e.getMessage());
                return;
            }
        }
    }

    private void fail(ByteBuf in, List<Object> out, ReasonCode reason, String detail) {
        failed = true;
        in.skipBytes(in.readableBytes());
        out.add(new DecodeFailure(reason, detail));
    }
}
