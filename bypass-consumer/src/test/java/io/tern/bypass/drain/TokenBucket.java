package io.tern.bypass.drain;

import java.util.function.LongSupplier;

/** A plain token bucket as the drain's permit in tests (the pipeline's gate is what runs in production). */
final class TokenBucket implements DrainPermit {
    private final double perSecond;
    private final double burst;
    private final LongSupplier nanoTime;
    private double tokens;
    private long lastNanos;

    TokenBucket(double perSecond, double burst, LongSupplier nanoTime) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanoTime = nanoTime;
        this.tokens = burst;
        this.lastNanos = nanoTime.getAsLong();
    }

    @Override
    public synchronized boolean tryAcquire(long deliveries) {
        long now = nanoTime.getAsLong();
        tokens = Math.min(burst, tokens + (now - lastNanos) / 1e9 * perSecond);
        lastNanos = now;
        if (tokens < deliveries) {
            return false;
        }
        tokens -= deliveries;
        return true;
    }
}
