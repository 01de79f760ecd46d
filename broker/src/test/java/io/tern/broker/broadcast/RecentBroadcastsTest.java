package io.tern.broker.broadcast;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RecentBroadcastsTest {
    private final AtomicInteger writes = new AtomicInteger();

    private Supplier<CompletableFuture<Integer>> write(int copies) {
        return () -> {
            writes.incrementAndGet();
            return CompletableFuture.completedFuture(copies);
        };
    }

    @Test
    void aBroadcastSentAgainWhileStillBeingWrittenWaitsForTheFirstCount() {
        RecentBroadcasts recent = new RecentBroadcasts(4);
        CompletableFuture<Integer> first = new CompletableFuture<>();
        CompletableFuture<Integer> a = recent.writeOnce("app", 7, () -> first);
        CompletableFuture<Integer> again = recent.writeOnce("app", 7, write(99));
        assertFalse(again.isDone());
        first.complete(12);
        assertEquals(12, a.join());
        assertEquals(12, again.join());
        assertEquals(0, writes.get(), "written once, by the first");
    }

    @Test
    void onlyTheMostRecentAreRememberedAndOtherAppsOrPlainPushesAreNotSuppressed() {
        RecentBroadcasts recent = new RecentBroadcasts(2);
        recent.writeOnce("app", 1, write(1));
        recent.writeOnce("other", 1, write(1));
        assertEquals(2, writes.get(), "the same seq of another app is another broadcast");
        recent.writeOnce("app", 2, write(1)); // pushes (app, 1) out of the memory of 2
        recent.writeOnce("app", 1, write(1));
        assertEquals(4, writes.get(), "beyond the bound a resend is written again (the SDK drops its copy)");
        recent.writeOnce("app", 0, write(1));
        recent.writeOnce("app", 0, write(1));
        assertEquals(6, writes.get(), "seq 0 is not an app broadcast");
    }

    @Test
    void aFailedWriteIsForgottenSoAResendWritesIt() {
        RecentBroadcasts recent = new RecentBroadcasts(4);
        recent.writeOnce("app", 3, () -> CompletableFuture.failedFuture(new IllegalStateException("x")));
        assertEquals(5, recent.writeOnce("app", 3, write(5)).join());
        assertEquals(1, writes.get());
    }
}
