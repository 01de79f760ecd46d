package io.tern.loadtest.stats;

import java.time.Instant;

/**
 * Wall-clock microseconds that every process on this machine agrees on, read cheaply: one
 * {@link Instant#now()} (microsecond resolution on Linux) taken at class load, then
 * {@link System#nanoTime()} offsets. Sender and receiver run in different JVMs; both base on the
 * same kernel clock, so a send time written into a payload by one process and a receipt time
 * taken in another differ by the real latency plus a few microseconds of sampling error.
 */
public final class EpochClock {
    private static final long BASE_NANOS;
    private static final long BASE_MICROS;

    static {
        long n1 = System.nanoTime();
        Instant now = Instant.now();
        long n2 = System.nanoTime();
        BASE_NANOS = n1 + (n2 - n1) / 2;
        BASE_MICROS = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private EpochClock() {
    }

    public static long nowMicros() {
        return toEpochMicros(System.nanoTime());
    }

    /** A {@link System#nanoTime()} reading of this JVM as epoch microseconds. */
    public static long toEpochMicros(long nanoTime) {
        return BASE_MICROS + (nanoTime - BASE_NANOS) / 1_000;
    }
}
