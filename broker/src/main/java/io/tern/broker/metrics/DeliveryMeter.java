package io.tern.broker.metrics;

import io.tern.store.registry.DeliveryStats;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Counts deliveries (PUSH frames and broadcast copies written to devices) for the registry heartbeat: the total
 * since start and the rate over the last second, which the rate controller sums against the brokers' capacity.
 * The rate is read from {@value #WINDOW} complete buckets of 100 ms, so it lags the truth by at most one bucket.
 * Event loops record without locks; a bucket reused for a new 100 ms may lose the few deliveries that raced its
 * reset, which a rate can afford.
 */
public final class DeliveryMeter {
    static final long BUCKET_NANOS = 100_000_000L;
    static final int WINDOW = 10;
    // One more than the window: the bucket being filled is not read.
    private static final int BUCKETS = WINDOW + 2;

    private final LongSupplier nanoTime;
    private final LongAdder total = new LongAdder();
    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final AtomicLongArray slots = new AtomicLongArray(BUCKETS);

    public DeliveryMeter(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        for (int i = 0; i < BUCKETS; i++) {
            slots.set(i, Long.MIN_VALUE);
        }
    }

    public void delivered(long n) {
        if (n <= 0) {
            return;
        }
        total.add(n);
        long slot = slot();
        int i = index(slot);
        long seen = slots.get(i);
        if (seen != slot && slots.compareAndSet(i, seen, slot)) {
            counts.set(i, 0);
        }
        counts.addAndGet(i, n);
    }

    /** Deliveries per second over the last {@value #WINDOW} complete buckets. */
    public double perSecond() {
        long current = slot();
        long sum = 0;
        for (long s = current - WINDOW; s < current; s++) {
            int i = index(s);
            if (slots.get(i) == s) {
                sum += counts.get(i);
            }
        }
        return sum * 1e9 / (WINDOW * BUCKET_NANOS);
    }

    public long total() {
        return total.sum();
    }

    /** @param capacityPerSecond the broker's configured capacity ({@code broker.capacity}), reported alongside */
    public DeliveryStats snapshot(int capacityPerSecond) {
        return new DeliveryStats(total(), perSecond(), capacityPerSecond);
    }

    private long slot() {
        return Math.floorDiv(nanoTime.getAsLong(), BUCKET_NANOS);
    }

    private static int index(long slot) {
        return (int) Math.floorMod(slot, (long) BUCKETS);
    }
}
