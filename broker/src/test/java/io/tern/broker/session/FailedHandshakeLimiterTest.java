package io.tern.broker.session;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailedHandshakeLimiterTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    private static InetAddress ip(int last) throws Exception {
        return InetAddress.getByAddress(new byte[]{10, 0, 0, (byte) last});
    }

    @Test
    void aSourceIsLimitedOnceItSpendsItsBurstAndOthersAreNot() throws Exception {
        FailedHandshakeLimiter limiter = new FailedHandshakeLimiter(5, 3, 100, nanos::get);
        for (int i = 0; i < 3; i++) {
            assertFalse(limiter.limited(ip(1)), "failure " + i + " is within the burst");
            limiter.failed(ip(1));
        }
        assertTrue(limiter.limited(ip(1)));
        assertFalse(limiter.limited(ip(2)), "another address keeps its own bucket");
        assertFalse(limiter.limited(null), "a source without an address is never limited");
    }

    @Test
    void tokensComeBackAtTheRate() throws Exception {
        FailedHandshakeLimiter limiter = new FailedHandshakeLimiter(5, 2, 100, nanos::get);
        limiter.failed(ip(1));
        limiter.failed(ip(1));
        assertTrue(limiter.limited(ip(1)));
        nanos.addAndGet(150_000_000L); // 0.75 of a token at 5/s
        assertTrue(limiter.limited(ip(1)));
        nanos.addAndGet(60_000_000L); // now past one token
        assertFalse(limiter.limited(ip(1)));
        limiter.failed(ip(1));
        assertTrue(limiter.limited(ip(1)), "one token came back and was spent");
        nanos.addAndGet(10_000_000_000L);
        limiter.failed(ip(1));
        assertFalse(limiter.limited(ip(1)), "refilled to the burst, not beyond: one failure leaves one token");
        limiter.failed(ip(1));
        assertTrue(limiter.limited(ip(1)));
    }

    @Test
    void theMapKeepsAtMostItsCapacityAndForgetsTheLeastRecentlySeen() throws Exception {
        FailedHandshakeLimiter limiter = new FailedHandshakeLimiter(1, 1, 3, nanos::get);
        limiter.failed(ip(1));
        for (int i = 2; i <= 200; i++) {
            limiter.failed(ip(i));
            assertTrue(limiter.sources() <= 3);
        }
        assertEquals(3, limiter.sources());
        assertFalse(limiter.limited(ip(1)), "forgotten: starts again with a full bucket");
        assertTrue(limiter.limited(ip(200)));
    }
}
