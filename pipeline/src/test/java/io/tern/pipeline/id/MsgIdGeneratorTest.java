package io.tern.pipeline.id;

import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MsgIdGeneratorTest {

    @Test
    void idsAreUniqueAndIncreasingWithinOneMillisecondAndBeyondTheSequenceLimit() {
        AtomicLong now = new AtomicLong(1_800_000_000_000L);
        MsgIdGenerator ids = new MsgIdGenerator(7, now::get);
        Set<Long> seen = new HashSet<>();
        long last = -1;
        for (int i = 0; i < 10_000; i++) { // > 4096: spills into borrowed milliseconds
            long id = ids.next();
            assertTrue(id > last, "ids increase");
            assertTrue(seen.add(id), "ids are unique");
            last = id;
        }
    }

    @Test
    void aClockSteppingBackNeverRepeatsAnId() {
        AtomicLong now = new AtomicLong(1_800_000_000_000L);
        MsgIdGenerator ids = new MsgIdGenerator(1, now::get);
        long before = ids.next();
        now.addAndGet(-5_000);
        assertTrue(ids.next() > before);
    }

    @Test
    void theIdCarriesItsCreationTime() {
        long t = 1_800_000_123_456L;
        MsgIdGenerator ids = new MsgIdGenerator(1023, () -> t);
        assertEquals(t, MsgIdGenerator.timestampOf(ids.next()));
    }

    @Test
    void differentNodesNeverCollideInTheSameMillisecond() {
        long t = 1_800_000_000_000L;
        assertTrue(new MsgIdGenerator(1, () -> t).next() != new MsgIdGenerator(2, () -> t).next());
    }

    @Test
    void nodeIdOutOfRangeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MsgIdGenerator(1024, System::currentTimeMillis));
        assertThrows(IllegalArgumentException.class, () -> new MsgIdGenerator(-1, System::currentTimeMillis));
    }

    @Test
    void aNewGrantStartsAboveItsHighWaterMarkEvenWhenTheClockIsBehindIt() {
        long t = 1_800_000_000_000L;
        long highWater = t + 10_000; // an earlier holder of node 5 may have used up to here
        MsgIdGenerator ids = new MsgIdGenerator(() -> new MsgIdGenerator.Grant(5, highWater), () -> t);
        long first = ids.next();
        assertTrue(MsgIdGenerator.timestampOf(first) > highWater, "above every id the earlier holder could issue");
        assertEquals(5, MsgIdGenerator.nodeIdOf(first));
        assertTrue(ids.next() > first);
    }

    @Test
    void noIdIsIssuedWhileNoNodeIdIsGranted() {
        java.util.concurrent.atomic.AtomicReference<MsgIdGenerator.Grant> grant =
                new java.util.concurrent.atomic.AtomicReference<>(new MsgIdGenerator.Grant(3, 0));
        MsgIdGenerator ids = new MsgIdGenerator(grant::get, () -> 1_800_000_000_000L);
        long before = ids.next();
        grant.set(null);
        PushException e = assertThrows(PushException.class, ids::next);
        assertEquals(PushError.IDS_UNAVAILABLE, e.error());
        grant.set(new MsgIdGenerator.Grant(3, 1_800_000_000_000L));
        assertTrue(ids.next() > before, "a new grant continues above what was issued");
    }
}
