package io.tern.broker.broadcast;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.LocalApps;
import io.tern.broker.session.Session;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.frame.Frame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writes one PUSH to every local connection of an app. The frame is encoded once; each
 * connection gets a retained duplicate of the same bytes. Each event loop walks its own
 * connections of the app (a snapshot taken when it starts) in chunks: a chunk is written and
 * flushed, then the rest is submitted again as a new task, so the loop's I/O, heartbeats and
 * single pushes run in between. Connections that are not writable are skipped and counted;
 * those being closed are left out. The future completes with the number written once every
 * loop is done.
 */
public final class Broadcaster {
    private static final Logger log = LoggerFactory.getLogger(Broadcaster.class);

    private final String brokerId;
    private final LocalApps apps;
    private final int chunk;
    private final BrokerMetrics metrics;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** @param chunk connections written per event-loop task */
    public Broadcaster(String brokerId, LocalApps apps, int chunk, BrokerMetrics metrics) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be >= 1: " + chunk);
        }
        this.brokerId = brokerId;
        this.apps = apps;
        this.chunk = chunk;
        this.metrics = metrics;
        metrics.gauge("tern.broker.broadcasts.in.flight", "Broadcasts being written", inFlight::get);
    }

    /** Broadcasts being written now. */
    public int inFlight() {
        return inFlight.get();
    }

    /**
     * Starts writing {@code push} to the app's connections; callable from any thread.
     *
     * @return completes with how many connections it was written to
     */
    public CompletableFuture<Integer> broadcast(String appId, Frame.Push push, ByteBufAllocator alloc) {
        metrics.broadcast();
        ByteBuf frame = FrameCodec.encode(push, alloc);
        List<LocalApps.PerLoop> loops = new ArrayList<>(apps.loops());
        Job job = new Job(appId, push.msgId(), frame, loops.size());
        inFlight.incrementAndGet();
        if (loops.isEmpty()) {
            job.finish();
            return job.done;
        }
        for (LocalApps.PerLoop l : loops) {
            LoopWriter w = new LoopWriter(job, l);
            try {
                l.loop().execute(w);
            } catch (RejectedExecutionException e) {
                job.loopDone(0, 0); // the loop is shutting down with its connections
            }
        }
        return job.done;
    }

    /** One broadcast across all loops: the shared encoded frame and the totals. */
    private final class Job {
        final String appId;
        final long msgId;
        final ByteBuf frame;
        final AtomicInteger loopsLeft;
        final AtomicInteger written = new AtomicInteger();
        final AtomicInteger skipped = new AtomicInteger();
        final CompletableFuture<Integer> done = new CompletableFuture<>();
        final long startNanos = System.nanoTime();

        Job(String appId, long msgId, ByteBuf frame, int loops) {
            this.appId = appId;
            this.msgId = msgId;
            this.frame = frame;
            this.loopsLeft = new AtomicInteger(loops);
        }

        void loopDone(int w, int s) {
            written.addAndGet(w);
            skipped.addAndGet(s);
            metrics.broadcastDeliveries(w, s);
            if (loopsLeft.decrementAndGet() == 0) {
                finish();
            }
        }

        void finish() {
            frame.release();
            inFlight.decrementAndGet();
            log.debug("[broker {} app={}] broadcast {} written to {} connections, {} skipped, in {} ms", brokerId,
                    appId, msgId, written.get(), skipped.get(), (System.nanoTime() - startNanos) / 1_000_000);
            done.complete(written.get());
        }
    }

    /** One loop's share, run as a chain of tasks on that loop. */
    private final class LoopWriter implements Runnable {
        final Job job;
        final LocalApps.PerLoop index;
        Session[] targets;
        int next;
        int written;
        int skipped;

        LoopWriter(Job job, LocalApps.PerLoop index) {
            this.job = job;
            this.index = index;
        }

        @Override
        public void run() {
            try {
                if (targets == null) {
                    targets = index.snapshot(job.appId);
                }
                int end = Math.min(targets.length, next + chunk);
                for (int i = next; i < end; i++) {
                    Session s = targets[i];
                    targets[i] = null;
                    if (!s.usable()) {
                        continue; // closing or closed: not a delivery
                    }
                    Channel ch = s.channel();
                    if (!ch.isWritable()) {
                        skipped++;
                        continue;
                    }
                    ch.writeAndFlush(job.frame.retainedDuplicate(), ch.voidPromise());
                    written++;
                }
                next = end;
                if (next < targets.length) {
                    resubmit(index.loop());
                    return;
                }
            } catch (RuntimeException e) {
                log.warn("[broker {} app={}] broadcast {} stopped on a loop after {} writes", brokerId, job.appId,
                        job.msgId, written, e);
            }
            job.loopDone(written, skipped);
        }

        private void resubmit(EventLoop loop) {
            try {
                loop.execute(this); // behind whatever else is queued: I/O and other tasks go first
            } catch (RejectedExecutionException e) {
                job.loopDone(written, skipped);
            }
        }
    }
}
