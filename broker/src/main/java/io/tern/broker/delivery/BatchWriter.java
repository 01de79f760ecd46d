package io.tern.broker.delivery;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Session;
import io.tern.broker.session.Sessions;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.frame.Frame;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A PushBatch: one PUSH to many devices of one app. Encoded once; each connected, writable
 * device gets a retained duplicate of the same bytes. The result comes once every write has
 * completed: written counts PUSHes on their sockets, notConnected lists the rest (absent, not
 * writable, or the write failed), so the logic node can queue those copies.
 */
final class BatchWriter {
    private final Sessions sessions;
    private final BrokerMetrics metrics;

    BatchWriter(Sessions sessions, BrokerMetrics metrics) {
        this.sessions = sessions;
        this.metrics = metrics;
    }

    void write(Frame.PushBatch batch, Channel internal, Consumer<Frame.PushBatchResult> reply) {
        metrics.pushBatch();
        Result result = new Result(batch.correlationId(), reply);
        ByteBuf frame = null;
        try {
            for (String regId : batch.regIds()) {
                Session s = sessions.find(batch.appId(), regId);
                if (s == null || !s.usable() || !s.channel().isWritable()) {
                    result.miss(regId);
                    continue;
                }
                if (frame == null) {
                    frame = FrameCodec.encode(batch.push(), internal.alloc());
                }
                result.pending.incrementAndGet();
                s.channel().writeAndFlush(frame.retainedDuplicate()).addListener(f -> {
                    if (f.isSuccess()) {
                        result.written.incrementAndGet();
                    } else {
                        result.miss(regId);
                    }
                    result.oneDone();
                });
            }
        } finally {
            if (frame != null) {
                frame.release();
            }
            result.oneDone(); // the issuing pass itself
        }
    }

    private final class Result {
        final long correlationId;
        final Consumer<Frame.PushBatchResult> reply;
        // One for the issuing pass, one per write in flight.
        final AtomicInteger pending = new AtomicInteger(1);
        final AtomicInteger written = new AtomicInteger();
        final List<String> missed = new ArrayList<>();

        Result(long correlationId, Consumer<Frame.PushBatchResult> reply) {
            this.correlationId = correlationId;
            this.reply = reply;
        }

        void miss(String regId) {
            synchronized (missed) {
                missed.add(regId);
            }
        }

        void oneDone() {
            if (pending.decrementAndGet() != 0) {
                return;
            }
            int w = written.get();
            List<String> notConnected;
            synchronized (missed) {
                notConnected = List.copyOf(missed);
            }
            metrics.batchMisses(notConnected.size());
            metrics.pushWritten(BrokerMetrics.PushSource.BATCH, w);
            reply.accept(new Frame.PushBatchResult(correlationId, w, notConnected));
        }
    }
}
