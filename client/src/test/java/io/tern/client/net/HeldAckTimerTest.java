package io.tern.client.net;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

class HeldAckTimerTest {
    private static final long DELAY = TimeUnit.MILLISECONDS.toNanos(40);

    /** The embedded loop's clock moves only by advanceTimeBy: due times are exact on a loaded machine too. */
    private final EmbeddedChannel loop = new EmbeddedChannel();
    private final HeldAckTimer timer = HeldAckTimer.of(loop.eventLoop());
    private final List<String> called = new ArrayList<>();

    private HeldAckTimer.Holder holder(String name) {
        return () -> called.add(name);
    }

    private void advanceMillis(long millis) {
        loop.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        loop.runScheduledPendingTasks();
    }

    @Test
    void eachHolderIsCalledOnceWhenItsOwnDelayIsUpInTheOrderAdded() {
        timer.add(holder("a"), DELAY);
        advanceMillis(10);
        timer.add(holder("b"), DELAY);
        advanceMillis(29);
        assertEquals(List.of(), called, "39 of 40 ms");
        advanceMillis(1);
        assertEquals(List.of("a"), called);
        advanceMillis(9);
        assertEquals(List.of("a"), called, "b's 40 ms are not up");
        advanceMillis(1);
        assertEquals(List.of("a", "b"), called);
        advanceMillis(1_000);
        assertEquals(List.of("a", "b"), called, "once each");
        assertEquals(0, timer.waiting());
    }

    @Test
    void holdersOfAShorterDelayAddedLaterAreNotHeldUpByLongerOnes() {
        timer.add(holder("long"), TimeUnit.MILLISECONDS.toNanos(100));
        timer.add(holder("short"), TimeUnit.MILLISECONDS.toNanos(10));
        advanceMillis(10);
        assertEquals(List.of("short"), called);
        advanceMillis(90);
        assertEquals(List.of("short", "long"), called);
    }

    @Test
    void moreHoldersThanASliceDueAtOnceAreCalledInOrderOneSliceATask() {
        int n = 2 * HeldAckTimer.SLICE + 1;
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            timer.add(holder("h" + i), DELAY);
            expected.add("h" + i);
        }
        advanceMillis(40);
        assertEquals(expected.subList(0, HeldAckTimer.SLICE), called, "the loop gets its turn after a slice");
        loop.runScheduledPendingTasks();
        assertEquals(expected.subList(0, 2 * HeldAckTimer.SLICE), called);
        loop.runScheduledPendingTasks();
        assertEquals(expected, called);
        assertEquals(0, timer.waiting());
    }

    @Test
    void aHolderAddedWhileOthersAreCalledWaitsItsWholeDelay() {
        timer.add(() -> {
            called.add("first");
            timer.add(holder("again"), DELAY);
        }, DELAY);
        advanceMillis(40);
        assertEquals(List.of("first"), called);
        advanceMillis(39);
        assertEquals(List.of("first"), called);
        advanceMillis(1);
        assertEquals(List.of("first", "again"), called);
    }

    @Test
    void oneTimerPerLoop() {
        assertSame(timer, HeldAckTimer.of(loop.eventLoop()));
        assertNotSame(timer, HeldAckTimer.of(new EmbeddedChannel().eventLoop()));
    }
}
