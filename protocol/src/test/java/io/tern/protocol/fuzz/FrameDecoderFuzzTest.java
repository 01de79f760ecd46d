package io.tern.protocol.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.Frame;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Arbitrary bytes, cut into arbitrary reads, through the frame decoder. Allowed outcomes: decoded
 * frames, then at most one {@link DecodeFailure} and nothing after it. Never an exception, never a
 * buffer larger than the input could justify (a header declaring 4 GiB allocates nothing), and
 * every decoded frame encodes back to a frame equal to itself (decoder and encoder agree).
 * Regression inputs: src/test/resources/io/tern/protocol/fuzz/FrameDecoderFuzzTestInputs/.
 */
class FrameDecoderFuzzTest {
    private static final int[] MAX_BODIES = {64, FrameHeader.DEFAULT_MAX_BODY, FrameHeader.INTERNAL_MAX_BODY};

    @FuzzTest(maxDuration = "15m", maxExecutions = 1_000_000)
    void arbitraryBytesDecodeToFramesOrOneFailure(FuzzedDataProvider data) {
        int maxBody = data.pickValue(MAX_BODIES);
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(new FrameDecoder(maxBody));

        List<ByteBuf> fed = new ArrayList<>();
        int total = 0;
        while (data.remainingBytes() > 0) {
            byte[] chunk = data.consumeBytes(data.consumeInt(1, 1024));
            if (chunk.length == 0) {
                break; // the length took the last bytes; an empty wrap would be the unreleasable EMPTY_BUFFER
            }
            ByteBuf buf = Unpooled.wrappedBuffer(chunk);
            fed.add(buf);
            total += chunk.length;
            channel.writeInbound(buf); // rethrows anything the pipeline raised
        }
        List<Object> out = new ArrayList<>();
        for (Object o; (o = channel.readInbound()) != null; ) {
            out.add(o);
        }
        for (int i = 0; i < out.size(); i++) {
            Object o = out.get(i);
            if (o instanceof DecodeFailure) {
                assertEquals(out.size() - 1, i, "nothing may follow a decode failure: " + out);
            } else if (o instanceof Frame frame) {
                ByteBuf encoded = FrameCodec.encode(frame, Unpooled.buffer().alloc());
                try {
                    assertTrue(encoded.readableBytes() - FrameHeader.SIZE <= maxBody, "frame over the max body decoded");
                    EmbeddedChannel again = new EmbeddedChannel(new FrameDecoder(FrameHeader.ABSOLUTE_MAX_BODY));
                    again.writeInbound(encoded.retain());
                    assertEquals(frame, again.readInbound(), "re-encoded frame decodes to itself");
                    assertFalse(again.finishAndReleaseAll());
                } finally {
                    encoded.release();
                }
            } else {
                fail("decoder emitted " + o.getClass());
            }
        }
        assertTrue(alloc.largest() <= Math.max(64, 2 * total),
                "allocated " + alloc.largest() + " bytes for " + total + " bytes of input");
        channel.finishAndReleaseAll();
        for (ByteBuf b : fed) {
            assertEquals(0, b.refCnt(), "every read buffer released");
        }
    }
}
