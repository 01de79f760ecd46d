package io.tern.loadtest.scenario;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InFlightTest {
    private static final long TIMEOUT = Duration.ofSeconds(30).toNanos();
    private final AtomicLong clock = new AtomicLong(1_000);

    private InFlight flight(int limit, int processes) {
        return new InFlight(limit, processes, TIMEOUT, clock::get);
    }

    @Test
    void aBroadcastIsDoneOnlyOnceEveryDeviceProcessReportedIt() {
        InFlight f = flight(4, 3);
        f.started(1);
        f.received(1, 0);
        f.received(1, 2);
        f.received(1, 2); // the same process twice is still one
        assertEquals(1, f.outstanding());
        assertEquals(0, f.completed());
        f.received(1, 1);
        assertEquals(0, f.outstanding());
        assertEquals(1, f.completed());
    }

    @Test
    void atMostLimitAreOutstandingAndACompletionFreesASlot() {
        InFlight f = flight(2, 1);
        f.started(1);
        f.started(2);
        assertFalse(f.hasSlot());
        assertThrows(IllegalStateException.class, () -> f.started(3));
        f.received(2, 0);
        assertTrue(f.hasSlot());
        f.started(3);
        assertEquals(2, f.peak());
        assertEquals(List.of(), f.timedOut());
    }

    @Test
    void aBroadcastPastItsTimeoutFreesItsSlotAndCountsAsTimedOutNotDone() {
        InFlight f = flight(1, 2);
        f.started(7);
        f.received(7, 0);
        clock.addAndGet(TIMEOUT - 1);
        assertFalse(f.hasSlot(), "one nanosecond before its deadline it still holds the slot");
        clock.addAndGet(1);
        assertTrue(f.hasSlot());
        assertEquals(List.of(7L), f.timedOut());
        assertEquals(0, f.completed());
        f.received(7, 1); // the late report changes nothing
        assertEquals(0, f.completed());
    }

    @Test
    void reportsOfBroadcastsNotInFlightChangeNothing() {
        InFlight f = flight(2, 1);
        f.received(10_001, 0); // e.g. a warm-up broadcast
        f.started(1);
        f.received(1, 0);
        f.received(1, 0);
        assertEquals(1, f.completed());
        assertEquals(0, f.outstanding());
    }

    @Test
    void aFailedCallFreesItsSlotWithoutCountingAsDone() {
        InFlight f = flight(1, 1);
        f.started(1);
        f.failed(1);
        assertTrue(f.hasSlot());
        assertEquals(0, f.completed());
        assertEquals(List.of(), f.timedOut());
        assertThrows(IllegalStateException.class, () -> {
            f.started(2);
            f.started(2);
        }, "the limit of 1 refuses a second");
    }

    @Test
    void aWaitingCallerGoesOnWhenAnotherThreadReportsTheCompletion() {
        InFlight f = flight(1, 1);
        f.started(1);
        CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
            try {
                f.awaitSlot();
                f.started(2);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertFalse(waiting.isDone());
        f.received(1, 0);
        await().atMost(Duration.ofSeconds(30)).until(waiting::isDone);
        assertEquals(1, f.outstanding(), "broadcast 2 took the freed slot");
    }

    @Test
    void awaitNoneEndsWhenTheLastOutstandingOneTimesOut() {
        InFlight f = flight(2, 1);
        f.started(1);
        f.started(2);
        f.received(1, 0);
        CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
            try {
                f.awaitNone();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertFalse(waiting.isDone());
        clock.addAndGet(TIMEOUT);
        await().atMost(Duration.ofSeconds(30)).until(waiting::isDone);
        assertEquals(List.of(2L), f.timedOut());
        assertEquals(1, f.completed());
    }
}
