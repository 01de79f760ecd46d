package io.tern.broker.session;

import io.tern.store.topic.DeviceHash;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnackedTest {

    @Test
    void onlyWrittenIdsAreRemovedAndEachOnce() {
        Unacked u = new Unacked(8);
        u.add(10, 8);
        u.add(11, 8);
        assertFalse(u.remove(12));
        assertTrue(u.remove(10));
        assertFalse(u.remove(10), "acked already");
        assertTrue(u.remove(11));
        assertTrue(u.isEmpty());
    }

    @Test
    void aSecondCopyOfTheSameMessageIsOneEntry() {
        Unacked u = new Unacked(8);
        u.add(5, 8);
        u.add(5, 8);
        assertEquals(1, u.size());
    }

    @Test
    void idsBelowTheNewestAreStillCheckedForASecondCopy() {
        Unacked u = new Unacked(8);
        u.add(10, 8);
        u.add(20, 8);
        u.add(10, 8); // a redelivery of an older message: already held
        assertEquals(2, u.size());
        u.add(5, 8); // older than the newest and not held: a new entry
        assertEquals(3, u.size());
        assertTrue(u.remove(10));
        u.add(10, 8); // written again after its ack
        assertEquals(3, u.size());
        for (long id : new long[]{20, 5, 10}) {
            assertTrue(u.remove(id), "id " + id);
        }
        assertTrue(u.isEmpty());
    }

    @Test
    void itGrowsToItsLimitThenForgetsTheOldest() {
        Unacked u = new Unacked(6);
        for (long id = 1; id <= 6; id++) {
            assertFalse(u.add(id, 6));
        }
        assertTrue(u.add(7, 6), "full: the oldest goes");
        assertEquals(6, u.size());
        assertFalse(u.remove(1));
        for (long id = 2; id <= 7; id++) {
            assertTrue(u.remove(id), "id " + id);
        }
    }

    @Test
    void removalsInTheMiddleKeepTheRingInOrderAcrossWrapAround() {
        Unacked u = new Unacked(4);
        for (long id = 1; id <= 4; id++) {
            u.add(id, 4);
        }
        u.add(5, 4); // wraps: 2 3 4 5
        assertTrue(u.remove(3));
        u.add(6, 4); // 2 4 5 6
        assertTrue(u.add(7, 4), "full again"); // 4 5 6 7
        assertFalse(u.remove(2));
        for (long id : new long[]{5, 4, 7, 6}) {
            assertTrue(u.remove(id), "id " + id);
        }
        assertTrue(u.isEmpty());
    }

    @Test
    void removingTheOldestFirstAsAnAcksDoesKeepsTheRestAcrossWrapAround() {
        Unacked u = new Unacked(4);
        for (long id = 1; id <= 6; id++) {
            u.add(id, 4); // ends as 3 4 5 6, the head past the start of the array
        }
        assertTrue(u.remove(3));
        assertTrue(u.remove(4));
        u.add(7, 4);
        u.add(8, 4); // 5 6 7 8, wrapped
        assertFalse(u.add(8, 4));
        assertTrue(u.add(9, 4), "full: 5 is forgotten"); // 6 7 8 9
        assertFalse(u.remove(5));
        for (long id = 6; id <= 9; id++) {
            assertTrue(u.remove(id), "id " + id);
            assertFalse(u.remove(id), "once");
        }
        assertTrue(u.isEmpty());
    }

    @Test
    void aSessionKeepsItsEmptiedArrayWhileWrittenToAndTheSweepDropsItOnceQuiet() {
        Session s = session();
        assertFalse(s.holdsUnacked());
        s.wrote(1, 4);
        s.wrote(2, 4);
        assertTrue(s.acked(1));
        assertTrue(s.acked(2));
        assertTrue(s.holdsUnacked(), "kept for the next broadcast");
        s.sweepUnacked();
        assertTrue(s.holdsUnacked(), "written since the last sweep");
        s.sweepUnacked();
        assertFalse(s.holdsUnacked(), "a sweep with no write and nothing outstanding");
    }

    @Test
    void theSweepKeepsOutstandingIds() {
        Session s = session();
        s.wrote(7, 4);
        s.sweepUnacked();
        s.sweepUnacked();
        assertTrue(s.holdsUnacked());
        assertTrue(s.acked(7), "an ack after quiet sweeps still counts");
    }

    @Test
    void aReusedArrayStillRefusesIdsNotWrittenAndAcksEachOnce() {
        Session s = session();
        s.wrote(1, 4);
        assertTrue(s.acked(1));
        assertFalse(s.acked(1), "acked already, the array kept");
        assertFalse(s.acked(2), "never written");
        s.wrote(2, 4);
        assertFalse(s.acked(1));
        assertTrue(s.acked(2));
        assertFalse(s.acked(2));
    }

    @Test
    void aReusedArrayHonoursTheLimit() {
        Session s = session();
        for (long round = 0; round < 3; round++) { // emptied between rounds, at a different head each time
            long base = round * 10;
            for (long id = 1; id <= 4; id++) {
                assertFalse(s.wrote(base + id, 4));
            }
            assertTrue(s.wrote(base + 5, 4), "full: the oldest goes");
            assertFalse(s.acked(base + 1));
            for (long id = 2; id <= 5; id++) {
                assertTrue(s.acked(base + id), "id " + (base + id));
            }
        }
    }

    @Test
    void theSessionsDeviceHashIsTheOneCountRecordsAndFiltersUse() {
        assertEquals(DeviceHash.of("r"), session().deviceHash());
    }

    private static Session session() {
        return new Session(new SessionKey("app", "r"), null, false, null, 0, "local");
    }
}
