package io.tern.client.internal;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackoffTest {

    @Test
    void ceilingDoublesUpToTheMax() {
        Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30), new SplittableRandom(1));
        long[] expected = {200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
        for (long e : expected) {
            assertEquals(e, b.nextCeilingMillis());
            b.nextDelayMillis();
        }
        for (int i = 0; i < 100; i++) {
            b.nextDelayMillis(); // never overflows
        }
        assertEquals(30000, b.nextCeilingMillis());
    }

    @Test
    void delaysAreFullyJitteredBelowTheCeiling() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(100), new SplittableRandom(7));
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 10_000; i++) {
            long d = b.nextDelayMillis();
            assertTrue(d >= 0 && d <= 100, "delay " + d);
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        assertTrue(min < 5 && max > 95, "spread over the whole range: " + min + ".." + max);
    }

    @Test
    void resetStartsOver() {
        Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30), new SplittableRandom(1));
        b.nextDelayMillis();
        b.nextDelayMillis();
        assertEquals(800, b.nextCeilingMillis());
        b.reset();
        assertEquals(200, b.nextCeilingMillis());
        assertEquals(0, b.attempts());
    }

    @Test
    void rejectsMaxBelowInitial() {
        assertThrows(IllegalArgumentException.class,
                () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), new SplittableRandom()));
    }
}
