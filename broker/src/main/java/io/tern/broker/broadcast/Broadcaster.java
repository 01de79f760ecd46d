package io.tern.broker.broadcast;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.DeviceFrameCodec;
import io.tern.broker.session.LocalApps;
import io.tern.broker.session.Session;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.frame.Frame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writes one PUSH to every local connection of an app, coalescing broadcasts that are in flight
 * at the same time. The frame is encoded once. Each event loop keeps a queue of the broadcasts
 * it still has to write and a ring: a snapshot of the loop's connections of one app, written
 * round and round from a cursor. A broadcast joins the ring at the cursor and leaves it when the
 * cursor comes back there, so each connection's write carries every broadcast that came since
 * its last one: N broadcasts in flight cost a connection one {@code write(2)} instead of N, also
 * when they arrive one after another (see {@code LoopWriter}). TCP connections get one buffer
 * holding the frames back to back; WebSocket ones get a duplicate each (one frame per binary
 * message) and still one flush. The ring goes {@code chunk} connections per event-loop task, then
 * re-submits itself behind whatever else is queued on the loop, so reads, heartbeats and single
 * pushes run in between; every connection gets the broadcasts of its app in the order they
 * arrived.
 *
 * <p>Copies are written from the encoder's context, below the session handlers and the frame
 * metrics (bytes are not frames to them), and counted in bulk once per task per loop
 * ({@code tern.broker.broadcast.deliveries}). A connection that is not writable gets its copies
 * parked (a duplicate of the shared frame each, up to {@code parkPerConnection} per connection and
 * {@code parkConnections} connections per loop): the loop looks again every {@code parkRetry} and
 * writes them, in order and before any later broadcast, once the connection drains; a connection
 * that closes meanwhile drops them (its device catches up on reconnect). Only copies beyond those
 * bounds are skipped and counted. Those being closed are left out. A broadcast's future completes
 * with the number of connections it was written to once every loop is done.
 *
 * <p>Bounds: {@link #full()} says {@code maxPending} broadcasts are being written; the internal
 * port stops reading then, so a loop's queue, which only holds broadcasts in flight, stays near
 * that limit (plus what one read of a logic-node connection already held), and a ring carries
 * at most {@code maxPending}.
 */
public final class Broadcaster {
    private static final Logger log = LoggerFactory.getLogger(Broadcaster.class);
    private static final OnRing[] NONE_ON_RING = new OnRing[0];

    private final String brokerId;
    private final LocalApps apps;
    private final int chunk;
    private final int maxPending;
    private final BrokerMetrics metrics;
    private final int maxUnacked;
    private final int parkPerConnection;
    private final int parkConnections;
    private final long parkRetryNanos;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ConcurrentHashMap<LocalApps.PerLoop, LoopWriter> writers = new ConcurrentHashMap<>();

    /**
     * @param chunk      connections written per event-loop task
     * @param maxPending broadcasts in flight at which {@link #full()} turns true; also the most one ring carries
     * @param maxUnacked most msgIds a connection keeps as written and not yet acked
     * @param parkPerConnection copies kept for a connection that is not writable (0: skip it, as before parking)
     * @param parkConnections   connections per event loop that may hold parked copies at once
     * @param parkRetry         how often a loop looks whether its parked connections drained
     */
    public Broadcaster(String brokerId, LocalApps apps, int chunk, int maxPending, BrokerMetrics metrics,
                       int maxUnacked, int parkPerConnection, int parkConnections, Duration parkRetry) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be >= 1: " + chunk);
        }
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending must be >= 1: " + maxPending);
        }
        this.brokerId = brokerId;
        this.apps = apps;
        this.chunk = chunk;
        this.maxPending = maxPending;
        this.metrics = metrics;
        this.maxUnacked = maxUnacked;
        this.parkPerConnection = parkPerConnection;
        this.parkConnections = parkConnections;
        this.parkRetryNanos = parkRetry.toNanos();
        metrics.gauge("tern.broker.broadcasts.in.flight", "Broadcasts being written", inFlight::get);
    }

    /** Broadcasts being written now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** True while as many broadcasts as the limit are being written: stop taking new ones. */
    public boolean full() {
        return inFlight.get() >= maxPending;
    }

    /**
     * Queues {@code push} for the app's connections on every loop; callable from any thread.
     *
     * @return completes with how many connections it was written to
     */
    public CompletableFuture<Integer> broadcast(String appId, Frame.Push push, ByteBufAllocator alloc) {
        metrics.broadcast();
        ByteBuf frame = FrameCodec.encode(push, alloc);
        List<LocalApps.PerLoop> loops = new ArrayList<>(apps.loops());
        Job job = new Job(appId, push.msgId(), frame, alloc, loops.size());
        inFlight.incrementAndGet();
        if (loops.isEmpty()) {
            job.finish();
            return job.done;
        }
        for (LocalApps.PerLoop l : loops) {
            LoopWriter w = writers.computeIfAbsent(l, LoopWriter::new);
            try {
                l.loop().execute(() -> w.enqueue(job));
            } catch (RejectedExecutionException e) {
                job.loopDone(0, 0); // the loop is shutting down with its connections
            }
        }
        return job.done;
    }

    /**
     * A broadcast on one loop's ring: the position count at which it has gone round once, and the ring's totals
     * when it joined (its own counts are what they grew by since), plus copies skipped for it alone.
     */
    private static final class OnRing {
        final Job job;
        final long leavesAt;
        final long writtenAtJoin;
        final long skippedAtJoin;
        int ownSkips;

        OnRing(Job job, long leavesAt, long writtenAtJoin, long skippedAtJoin) {
            this.job = job;
            this.leavesAt = leavesAt;
            this.writtenAtJoin = writtenAtJoin;
            this.skippedAtJoin = skippedAtJoin;
        }
    }

    /** A copy waiting for its connection to drain: a retained duplicate of the broadcast's shared frame. */
    private record Parked(long msgId, ByteBuf frame) {
    }

    /** One broadcast across all loops: the shared encoded frame and the totals. */
    private final class Job {
        final String appId;
        final long msgId;
        final ByteBuf frame;
        final ByteBufAllocator alloc;
        final AtomicInteger loopsLeft;
        final AtomicInteger written = new AtomicInteger();
        final AtomicInteger skipped = new AtomicInteger();
        final CompletableFuture<Integer> done = new CompletableFuture<>();
        final long startNanos = System.nanoTime();

        Job(String appId, long msgId, ByteBuf frame, ByteBufAllocator alloc, int loops) {
            this.appId = appId;
            this.msgId = msgId;
            this.frame = frame;
            this.alloc = alloc;
            this.loopsLeft = new AtomicInteger(loops);
        }

        void loopDone(int w, int s) {
            written.addAndGet(w);
            skipped.addAndGet(s);
            if (loopsLeft.decrementAndGet() == 0) {
                finish();
            }
        }

        void finish() {
            frame.release();
            inFlight.decrementAndGet();
            log.debug("[broker {} app={}] broadcast {} written to {} connections, {} copies skipped, in {} ms", brokerId,
                    appId, msgId, written.get(), skipped.get(), (System.nanoTime() - startNanos) / 1_000_000);
            done.complete(written.get());
        }
    }

    /**
     * One event loop's queue of broadcasts and the ring being written; touched only on that loop.
     * Scheduled at most once at a time.
     *
     * <p>A ring is one app's connections on the loop, written round and round from a cursor while
     * that app's broadcasts keep coming: a broadcast joins at the cursor and is part of every
     * connection's write until the cursor comes back to where it joined, so a connection's write
     * carries every broadcast that came since its last one (under load as many as are in flight,
     * not only those that were queued when a pass began). A connection gets its broadcasts in
     * arrival order: each joins behind those already on the ring. Joining needs the ring's
     * snapshot to still hold every connection of the app (no connection added to the loop since);
     * otherwise the broadcast waits, the ring empties within one round and the next one starts
     * from a fresh snapshot. Only broadcasts at the head of the queue join, so another app's
     * broadcast waits at most one round.
     */
    private final class LoopWriter implements Runnable {
        final LocalApps.PerLoop index;
        final ArrayDeque<Job> queue = new ArrayDeque<>();
        boolean scheduled;
        // The ring: its app's connections as of `ringAdds` and where the cursor is.
        String ringApp;
        Session[] ring;
        long ringAdds;
        int cursor;
        /** Positions the cursor passed on this ring. */
        long visited;
        // Broadcasts on the ring, in arrival order.
        OnRing[] jobs = NONE_ON_RING;
        int jobCount;
        /** Their frames back to back; null when they changed since it was built. */
        ByteBuf joined;
        /** Connections written with every broadcast on the ring, and skipped for every one, on this ring. */
        long writtenTotal;
        long skippedTotal;
        // For the metrics, since they were last reported.
        int deliveriesNow;
        int skippedNow;
        int parkedNow;
        // Copies for connections that were not writable, oldest first; loop-confined, bounded (see park).
        final Map<Session, ArrayDeque<Parked>> parked = new HashMap<>();
        boolean retryScheduled;

        LoopWriter(LocalApps.PerLoop index) {
            this.index = index;
        }

        void enqueue(Job job) {
            queue.add(job);
            if (!scheduled) {
                scheduled = true;
                // Not started here: broadcasts already queued as tasks on this loop join this ring at once.
                resubmit();
            }
        }

        @Override
        public void run() {
            try {
                if (ring == null) {
                    startRing();
                } else {
                    join(false);
                }
                for (int k = 0; k < chunk && jobCount > 0; k++) {
                    write(ring[cursor]);
                    visited++;
                    cursor = cursor + 1 == ring.length ? 0 : cursor + 1;
                    while (jobCount > 0 && jobs[0].leavesAt == visited) {
                        leave();
                    }
                }
            } catch (RuntimeException e) {
                log.warn("[broker {} app={}] broadcast ring of {} stopped on a loop after {} connections", brokerId,
                        ringApp, jobCount, writtenTotal, e);
                while (jobCount > 0) {
                    leave();
                }
            }
            report();
            if (jobCount == 0) {
                endRing();
            }
            if (jobCount > 0 || !queue.isEmpty()) {
                resubmit();
            } else {
                scheduled = false;
            }
        }

        /** Takes a snapshot of the first queued broadcast's app and puts its queued broadcasts on it. */
        private void startRing() {
            Job first = queue.peek();
            if (first == null) {
                return;
            }
            ringApp = first.appId;
            ring = index.snapshot(ringApp);
            ringAdds = index.adds();
            cursor = 0;
            visited = 0;
            writtenTotal = 0;
            skippedTotal = 0;
            join(true);
        }

        /**
         * Puts queued broadcasts of the ring's app on it while they fit: every one of them when the ring
         * starts, later only those at the head of the queue, and none once the loop has a connection the
         * snapshot lacks (it would miss them).
         */
        private void join(boolean starting) {
            if (!starting && index.adds() != ringAdds) {
                return;
            }
            for (Iterator<Job> it = queue.iterator(); it.hasNext() && jobCount < maxPending; ) {
                Job j = it.next();
                if (!j.appId.equals(ringApp)) {
                    if (starting) {
                        continue;
                    }
                    break;
                }
                it.remove();
                if (ring.length == 0) {
                    j.loopDone(0, 0);
                    continue;
                }
                if (jobs.length == jobCount) {
                    jobs = Arrays.copyOf(jobs, Math.min(maxPending, Math.max(2, 2 * jobs.length)));
                }
                jobs[jobCount++] = new OnRing(j, visited + ring.length, writtenTotal, skippedTotal);
                dropJoined();
            }
        }

        /** The oldest broadcast went round once (or the ring stopped): done on this loop. */
        private void leave() {
            OnRing o = jobs[0];
            jobCount--;
            System.arraycopy(jobs, 1, jobs, 0, jobCount);
            jobs[jobCount] = null;
            dropJoined();
            report(); // its deliveries show before its future completes
            o.job.loopDone((int) (writtenTotal - o.writtenAtJoin), (int) (skippedTotal - o.skippedAtJoin) + o.ownSkips);
        }

        private void dropJoined() {
            if (joined != null) {
                joined.release();
                joined = null;
            }
        }

        /** The ring's broadcasts as one buffer, built again only when they changed. */
        private ByteBuf joined() {
            if (joined == null) {
                if (jobCount == 1) {
                    joined = jobs[0].job.frame.retain();
                } else {
                    int bytes = 0;
                    for (int k = 0; k < jobCount; k++) {
                        bytes += jobs[k].job.frame.readableBytes();
                    }
                    joined = jobs[0].job.alloc.directBuffer(bytes, bytes);
                    for (int k = 0; k < jobCount; k++) {
                        ByteBuf f = jobs[k].job.frame;
                        joined.writeBytes(f, f.readerIndex(), f.readableBytes());
                    }
                }
            }
            return joined;
        }

        private void endRing() {
            dropJoined();
            ring = null;
            ringApp = null;
        }

        private void report() {
            if (deliveriesNow > 0 || skippedNow > 0) {
                metrics.broadcastDeliveries(deliveriesNow, skippedNow);
                deliveriesNow = 0;
                skippedNow = 0;
            }
            if (parkedNow > 0) {
                metrics.broadcastParked(parkedNow);
                parkedNow = 0;
            }
        }

        private void write(Session s) {
            if (!s.usable()) {
                return; // closing or closed: not a delivery
            }
            Channel ch = s.channel();
            // Nearly always empty: no hash of the session a connection then.
            ArrayDeque<Parked> waiting = parked.isEmpty() ? null : parked.get(s);
            if (waiting != null || !ch.isWritable()) {
                park(s, waiting); // behind what it holds already: each device gets its broadcasts in order
                return;
            }
            // Below the codec and the session handler (the bytes are encoded already): the msgIds are recorded here,
            for (int k = 0; k < jobCount; k++) { // so that the device's ACKs of them count
                if (s.wrote(jobs[k].job.msgId, maxUnacked)) {
                    metrics.ackUntracked();
                }
            }
            ChannelHandlerContext out = ch.pipeline().context(DeviceFrameCodec.class);
            if (s.webSocket() && jobCount > 1) {
                for (int k = 0; k < jobCount; k++) { // one frame per binary message
                    ByteBuf copy = jobs[k].job.frame.retainedDuplicate();
                    if (out != null) {
                        out.write(copy, out.voidPromise());
                    } else {
                        ch.write(copy, ch.voidPromise());
                    }
                }
            } else if (out != null) {
                out.write(joined().retainedDuplicate(), out.voidPromise());
            } else {
                ch.write(joined().retainedDuplicate(), ch.voidPromise());
            }
            if (out != null) {
                out.flush();
            } else {
                ch.flush();
            }
            writtenTotal++;
            deliveriesNow += jobCount;
        }

        /** Keeps the ring's copies for a connection that cannot take them now, within the bounds. */
        private void park(Session s, ArrayDeque<Parked> waiting) {
            if (waiting == null) {
                if (parkPerConnection == 0 || parked.size() >= parkConnections) {
                    skippedTotal++;
                    skippedNow += jobCount;
                    return;
                }
                waiting = new ArrayDeque<>(Math.min(parkPerConnection, jobCount));
                parked.put(s, waiting);
            }
            for (int k = 0; k < jobCount; k++) {
                if (waiting.size() >= parkPerConnection) {
                    jobs[k].ownSkips++;
                    skippedNow++;
                } else {
                    waiting.add(new Parked(jobs[k].job.msgId, jobs[k].job.frame.retainedDuplicate()));
                    parkedNow++;
                }
            }
            scheduleRetry();
        }

        private void scheduleRetry() {
            if (retryScheduled || parked.isEmpty()) {
                return;
            }
            retryScheduled = true;
            try {
                index.loop().schedule(this::retryParked, parkRetryNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                retryScheduled = false;
                dropParked(); // the loop is shutting down with its connections
            }
        }

        /** Writes the parked copies of every connection that drained; drops those of closed ones. */
        private void retryParked() {
            retryScheduled = false;
            int late = 0;
            int dropped = 0;
            for (Iterator<Map.Entry<Session, ArrayDeque<Parked>>> it = parked.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Session, ArrayDeque<Parked>> e = it.next();
                Session s = e.getKey();
                if (!s.usable()) {
                    dropped += release(e.getValue());
                    it.remove();
                    continue;
                }
                Channel ch = s.channel();
                if (!ch.isWritable()) {
                    continue;
                }
                ChannelHandlerContext out = ch.pipeline().context(DeviceFrameCodec.class);
                for (Parked p; (p = e.getValue().poll()) != null; ) {
                    if (s.wrote(p.msgId(), maxUnacked)) {
                        metrics.ackUntracked();
                    }
                    if (out != null) {
                        out.write(p.frame(), out.voidPromise());
                    } else {
                        ch.write(p.frame(), ch.voidPromise());
                    }
                    late++;
                }
                if (out != null) {
                    out.flush();
                } else {
                    ch.flush();
                }
                it.remove();
            }
            metrics.broadcastParkedOutcome(late, dropped);
            scheduleRetry();
        }

        private void dropParked() {
            int dropped = 0;
            for (ArrayDeque<Parked> q : parked.values()) {
                dropped += release(q);
            }
            parked.clear();
            metrics.broadcastParkedOutcome(0, dropped);
        }

        private int release(ArrayDeque<Parked> q) {
            int n = q.size();
            for (Parked p; (p = q.poll()) != null; ) {
                p.frame().release();
            }
            return n;
        }

        private void resubmit() {
            try {
                index.loop().execute(this); // behind whatever else is queued: I/O and other tasks go first
            } catch (RejectedExecutionException e) {
                // The loop is shutting down with its connections: what is left is written nowhere.
                while (jobCount > 0) {
                    leave();
                }
                endRing();
                for (Job j; (j = queue.poll()) != null; ) {
                    j.loopDone(0, 0);
                }
                scheduled = false;
            }
        }
    }
}
