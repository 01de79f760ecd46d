package io.tern.client.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter: the n-th delay (from 0) is uniform in
 * {@code [0, min(max, initial * 2^n)]}. {@link #reset()} after a success starts again from
 * {@code initial}. Not thread-safe: a client uses it from its own event loop only.
 */
public final class Backoff {
    private static final int MAX_SHIFT = 40;

    private final long initialMillis;
    private final long maxMillis;
    private final RandomGenerator random;
    private int attempt;

    public Backoff(Duration initial, Duration max, RandomGenerator random) {
        this.initialMillis = initial.toMillis();
        this.maxMillis = max.toMillis();
        if (initialMillis < 1 || maxMillis < initialMillis) {
            throw new IllegalArgumentException("backoff needs 1 ms <= initial <= max: " + initial + ", " + max);
        }
        this.random = Objects.requireNonNull(random, "random");
    }

    /** The upper bound of the next delay, before jitter. */
    public long nextCeilingMillis() {
        int shift = Math.min(attempt, MAX_SHIFT);
        long ceiling = initialMillis << shift;
        return ceiling <= 0 || ceiling > maxMillis ? maxMillis : ceiling;
    }

    /** Draws the next delay and advances the exponent. */
    public long nextDelayMillis() {
        long ceiling = nextCeilingMillis();
        if (attempt < MAX_SHIFT) {
            attempt++;
        }
        return random.nextLong(ceiling + 1);
    }

    public void reset() {
        attempt = 0;
    }

    /** Delays drawn since the last reset. */
    public int attempts() {
        return attempt;
    }
}
