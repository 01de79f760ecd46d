package io.tern.runtime.log;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Lets a repeated warning through at most once per interval, from any thread: a failure that every device or every
 * record hits (Kafka or a store down) would otherwise log once per device. What is not logged is meant to be counted
 * in a metric by the caller.
 */
public final class LogThrottle {
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final AtomicLong last;

    public LogThrottle(Duration interval) {
        this(interval, System::nanoTime);
    }

    LogThrottle(Duration interval, LongSupplier nanoClock) {
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
        this.last = new AtomicLong(nanoClock.getAsLong() - intervalNanos);
    }

    /** True for the first call of each interval (the caller logs then), false for the rest. */
    public boolean allow() {
        long now = nanoClock.getAsLong();
        long prev = last.get();
        return now - prev >= intervalNanos && last.compareAndSet(prev, now);
    }
}
