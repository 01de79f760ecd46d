package io.tern.broker.session;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConnectStatsTrackerTest {
    private final AtomicLong nanos = new AtomicLong(TimeUnit.SECONDS.toNanos(100));
    private final ConnectStatsTracker stats = new ConnectStatsTracker(200, Duration.ofSeconds(5), nanos::get);

    private void connectTaking(long millis) {
        long accepted = nanos.get();
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
        stats.admitted(accepted);
    }

    @Test
    void p99IsOverTheRecentWindowOnly() {
        assertEquals(0, stats.p99Millis(), "no connect, no latency");
        for (int i = 0; i < 100; i++) {
            connectTaking(i == 99 ? 900 : 2);
        }
        assertEquals(2, stats.p99Millis(), "nearest rank: one slow connect in 100 is above the p99");
        connectTaking(900);
        assertEquals(900, stats.p99Millis(), "two in 101 are not");
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(6));
        assertEquals(0, stats.p99Millis(), "older than the window");
        connectTaking(7);
        assertEquals(7, stats.p99Millis());
        assertEquals(102, stats.snapshot(0).admitted());
    }

    @Test
    void theSampleRingIsBoundedAndKeepsTheNewest() {
        for (int i = 0; i < 1000; i++) {
            connectTaking(500);
        }
        for (int i = 0; i < 200; i++) {
            connectTaking(1);
        }
        assertEquals(1, stats.p99Millis(), "only the newest 200 are kept");
        assertEquals(1200, stats.admittedCount());
    }
}
