package io.tern.broker.session;

import io.tern.store.registry.ConnectStats;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The broker's connect counters (admitted, refused by the admission rate, failed otherwise) and
 * the accept-to-CONNACK latency of its recent handshakes, for the registry ({@link ConnectStats}):
 * the global scheduler watches them on the target region while it moves devices there. Latencies
 * go into a fixed ring of samples (time and millis packed in one long), so memory is bounded
 * whatever the connect rate; the p99 is computed over the samples of the last {@code window},
 * once per registry heartbeat. Thread-safe: every event loop records.
 */
public final class ConnectStatsTracker {
    private static final int LATENCY_BITS = 24;
    private static final long LATENCY_MASK = (1L << LATENCY_BITS) - 1;

    private final LongAdder admitted = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final AtomicLongArray samples;
    private final AtomicLong next = new AtomicLong();
    private final long windowMillis;
    private final LongSupplier nanos;

    /**
     * @param samples latencies kept at most (the newest)
     * @param window  how far back the p99 looks
     */
    public ConnectStatsTracker(int samples, Duration window, LongSupplier nanos) {
        if (samples < 1) {
            throw new IllegalArgumentException("samples must be at least 1: " + samples);
        }
        this.samples = new AtomicLongArray(samples);
        this.windowMillis = Math.max(1, window.toMillis());
        this.nanos = nanos;
    }

    /** Now on the tracker's clock, for {@link #admitted(long)}. */
    public long nanoTime() {
        return nanos.getAsLong();
    }

    /** A CONNACK went out for a connection accepted at {@code acceptedAtNanos}. */
    public void admitted(long acceptedAtNanos) {
        admitted.increment();
        long now = nanos.getAsLong();
        long millis = Math.min(LATENCY_MASK, Math.max(0, (now - acceptedAtNanos) / 1_000_000));
        // +1 so that a slot never written (0) is told apart from a sample.
        long at = now / 1_000_000 + 1;
        samples.set((int) Math.floorMod(next.getAndIncrement(), (long) samples.length()), at << LATENCY_BITS | millis);
    }

    /** A valid CONNECT refused with SERVER_BUSY by the admission rate. */
    public void refused() {
        refused.increment();
    }

    /** A handshake that failed: bad or expired token, timeout, a frame before CONNECT. */
    public void failed() {
        failed.increment();
    }

    public long admittedCount() {
        return admitted.sum();
    }

    public long refusedCount() {
        return refused.sum();
    }

    /** p99 of accept-to-CONNACK over the window, in milliseconds; 0 with no connect in it. */
    public long p99Millis() {
        long since = nanos.getAsLong() / 1_000_000 + 1 - windowMillis;
        int n = samples.length();
        long[] recent = new long[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            long s = samples.get(i);
            if (s != 0 && (s >>> LATENCY_BITS) >= since) {
                recent[count++] = s & LATENCY_MASK;
            }
        }
        if (count == 0) {
            return 0;
        }
        Arrays.sort(recent, 0, count);
        return recent[(int) Math.ceil(count * 0.99) - 1];
    }

    /** @param admissionPerSecond the broker's admission cap, 0 when uncapped */
    public ConnectStats snapshot(int admissionPerSecond) {
        return new ConnectStats(admitted.sum(), refused.sum(), failed.sum(), p99Millis(), admissionPerSecond);
    }
}
