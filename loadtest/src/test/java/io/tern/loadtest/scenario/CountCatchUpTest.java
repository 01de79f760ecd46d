package io.tern.loadtest.scenario;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CountCatchUpTest {
    private static final List<String> TASKS = List.of("t1", "t2", "t3");

    private static Map<String, Long> receipts() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("t1", 1_000L);
        m.put("t2", 1_000L);
        m.put("t3", 0L); // nobody got it: nothing to count
        return m;
    }

    private static CountCatchUp expecting(long startNanos) {
        CountCatchUp c = new CountCatchUp(TASKS, startNanos);
        c.expect(receipts());
        return c;
    }

    @Test
    void caughtUpWhenEveryTasksCountReachesItsReceipts() {
        CountCatchUp c = expecting(0);
        assertEquals(List.of("t1", "t2"), c.pending());
        c.observe("t1", 1_000, 10, 100);
        c.observe("t2", 999, 10, 100);
        assertFalse(c.caughtUp());
        assertEquals(List.of("t2"), c.pending());
        assertEquals(1_999, c.counted());
        assertEquals(2_000, c.receipts());
        c.observe("t2", 1_000, 20, 200);
        assertTrue(c.caughtUp());
    }

    @Test
    void countsSeenBeforeTheReceiptsAreKnownStandAndNothingIsCaughtUpUntilThen() {
        CountCatchUp c = new CountCatchUp(TASKS, 0);
        c.observe("t1", 1_000, 10, 100);
        c.observe("t2", 1_000, 10, 100);
        assertEquals(TASKS, c.pending(), "receipts unknown: every task is still looked at");
        assertFalse(c.caughtUp());
        assertEquals(0, c.receipts());
        c.expect(receipts());
        assertTrue(c.caughtUp());
        assertEquals(100, c.lastMoveMicros(), "the first look already saw the final counts");
    }

    @Test
    void theLastMoveIsTheLastAnswerThatRaisedACount() {
        CountCatchUp c = expecting(0);
        assertEquals(0, c.lastMoveMicros(), "nothing counted yet");
        c.observe("t1", 500, 10, 1_000);
        c.observe("t1", 800, 20, 2_000);
        c.observe("t1", 800, 30, 3_000);   // the same count again is no move
        c.observe("t1", 700, 40, 4_000);   // nor a lower one (an answer that overtook a later one)
        c.observe("other", 5, 50, 5_000);  // nor a task not waited for
        assertEquals(2_000, c.lastMoveMicros());
        assertEquals(800, c.counted());
    }

    @Test
    void stalledWhenNoCountMovedForTheQuietTime() {
        CountCatchUp c = expecting(1_000);
        assertFalse(c.stalled(5_999, 5_000));
        assertTrue(c.stalled(6_000, 5_000), "never moved since the start");
        c.observe("t1", 10, 6_000, 1);
        assertFalse(c.stalled(10_999, 5_000));
        assertTrue(c.stalled(11_000, 5_000));
    }
}
