package io.tern.broker.session;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * The broker's admission rate: valid CONNECTs are admitted at most {@code ratePerSecond} per
 * second, as a token bucket that holds up to {@code burst}; a CONNECT finding it empty is refused
 * with SERVER_BUSY and a retry hint, so a region's devices arriving all at once (a failover, a
 * failback, a dead region) come back spread out instead of swamping the broker. A rate of 0 admits
 * everything. Thread-safe (every event loop asks); each call is a few arithmetic operations under a
 * short lock.
 */
public final class AdmissionLimiter {
    private final int ratePerSecond;
    private final double tokensPerNano;
    private final double burst;
    private final long retryHintMillis;
    private final LongSupplier nanos;
    private double tokens;
    private long lastNanos;

    /**
     * @param ratePerSecond admissions per second, 0 = uncapped
     * @param burst         admissions allowed at once after a quiet spell
     * @param retryHint     base of the hint given to refused devices; each gets a value drawn uniformly from
     *                      [hint, 2 × hint) so they do not all return in the same millisecond
     */
    public AdmissionLimiter(int ratePerSecond, int burst, Duration retryHint, LongSupplier nanos) {
        if (ratePerSecond < 0 || burst < 1) {
            throw new IllegalArgumentException("rate must be >= 0 and burst >= 1: " + ratePerSecond + ", " + burst);
        }
        this.ratePerSecond = ratePerSecond;
        this.tokensPerNano = ratePerSecond / 1e9;
        this.burst = burst;
        this.retryHintMillis = Math.max(1, retryHint.toMillis());
        this.nanos = nanos;
        this.tokens = burst;
        this.lastNanos = nanos.getAsLong();
    }

    /** @return true when this CONNECT may be admitted now (takes a token) */
    public boolean tryAdmit() {
        if (ratePerSecond == 0) {
            return true;
        }
        long now = nanos.getAsLong();
        synchronized (this) {
            if (now > lastNanos) {
                tokens = Math.min(burst, tokens + (now - lastNanos) * tokensPerNano);
                lastNanos = now;
            }
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }

    /** A jittered retry hint for one refused device, in milliseconds. */
    public long retryHintMillis() {
        return retryHintMillis + ThreadLocalRandom.current().nextLong(retryHintMillis);
    }

    /** The cap in admissions per second, 0 when uncapped. */
    public int ratePerSecond() {
        return ratePerSecond;
    }
}
