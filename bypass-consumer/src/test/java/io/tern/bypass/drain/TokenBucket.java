package io.tern.bypass.drain;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/** A plain token bucket as the drain's permit in tests (the pipeline's gate is what runs in production). */
final class TokenBucket implements DrainPermit, AutoCloseable {
    private final double perSecond;
    private final double burst;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
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
    public CompletableFuture<Void> acquire(long deliveries) {
        CompletableFuture<Void> granted = new CompletableFuture<>();
        tryGrant(granted, deliveries);
        return granted;
    }

    private void tryGrant(CompletableFuture<Void> granted, long deliveries) {
        if (take(deliveries)) {
            granted.complete(null);
        } else {
            timer.schedule(() -> tryGrant(granted, deliveries), 5, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized boolean take(long deliveries) {
        long now = nanoTime.getAsLong();
        tokens = Math.min(burst, tokens + (now - lastNanos) / 1e9 * perSecond);
        lastNanos = now;
        if (tokens < deliveries) {
            return false;
        }
        tokens -= deliveries;
        return true;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
