package io.tern.runtime.log;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogThrottleTest {
    @Test
    void theFirstCallOfEachIntervalPassesAndTheRestWithinItDoNot() {
        AtomicLong nanos = new AtomicLong(1_000);
        LogThrottle throttle = new LogThrottle(Duration.ofSeconds(10), nanos::get);
        assertTrue(throttle.allow(), "the first warning is logged at once");
        assertFalse(throttle.allow());
        nanos.addAndGet(Duration.ofSeconds(10).toNanos() - 1);
        assertFalse(throttle.allow(), "still within the interval");
        nanos.addAndGet(1);
        assertTrue(throttle.allow(), "a full interval later");
        assertFalse(throttle.allow());
    }
}
