package io.tern.store.refresh;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeriodicReadTest {
    private static final Duration LONG = Duration.ofHours(1);

    @Test
    void startAppliesTheFirstReadBeforeReturning() {
        List<Integer> applied = new CopyOnWriteArrayList<>();
        try (PeriodicRead<Integer> r = new PeriodicRead<>("test t1", "numbers", "numbers", LONG, Duration.ofSeconds(5),
                () -> CompletableFuture.supplyAsync(() -> 7), applied::add).start()) {
            assertEquals(List.of(7), applied);
        }
    }

    @Test
    void aFailedReadIsCountedAndLeavesWhatWasAppliedThenReadingResumes() {
        AtomicInteger calls = new AtomicInteger();
        List<Integer> applied = new CopyOnWriteArrayList<>();
        try (PeriodicRead<Integer> r = new PeriodicRead<>("test t1", "numbers", "numbers", LONG, Duration.ofSeconds(5),
                () -> calls.incrementAndGet() == 2
                        ? CompletableFuture.failedFuture(new IllegalStateException("redis down"))
                        : CompletableFuture.completedFuture(calls.get()),
                applied::add)) {
            assertTrue(r.readNow());
            assertFalse(r.readNow());
            assertEquals(1, r.failures());
            assertEquals(List.of(1), applied);
            assertTrue(r.readNow());
            assertEquals(List.of(1, 3), applied);
        }
    }

    @Test
    void aHungReadTimesOutSoLaterReadsStillRun() {
        AtomicInteger calls = new AtomicInteger();
        List<Integer> applied = new CopyOnWriteArrayList<>();
        try (PeriodicRead<Integer> r = new PeriodicRead<>("test t1", "numbers", "numbers", Duration.ofMillis(20),
                Duration.ofMillis(100),
                () -> calls.incrementAndGet() == 1 ? new CompletableFuture<>() : CompletableFuture.completedFuture(calls.get()),
                applied::add).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> applied.size() >= 2);
            assertEquals(1, r.failures());
        }
    }

    @Test
    void readLaterRunsOnTheReadingThreadAndIsRefusedOnceClosed() {
        List<String> threads = new CopyOnWriteArrayList<>();
        PeriodicRead<Integer> r = new PeriodicRead<>("test t1", "numbers", "numbers", LONG, Duration.ofSeconds(5),
                () -> CompletableFuture.completedFuture(1), v -> threads.add(Thread.currentThread().getName()));
        assertTrue(r.readLater(0));
        await().atMost(Duration.ofSeconds(30)).until(() -> !threads.isEmpty());
        assertEquals("test-t1-numbers", threads.get(0));
        r.close();
        assertFalse(r.readLater(0));
    }
}
