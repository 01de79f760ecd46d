package io.tern.client.internal;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecentIdsTest {

    @Test
    void secondSightingIsADuplicate() {
        RecentIds ids = new RecentIds(8);
        assertTrue(ids.add(42));
        assertFalse(ids.add(42));
        assertTrue(ids.contains(42));
        assertEquals(1, ids.size());
    }

    @Test
    void forgetsTheOldestOnceFull() {
        RecentIds ids = new RecentIds(3);
        ids.add(1);
        ids.add(2);
        ids.add(3);
        ids.add(4); // evicts 1
        assertFalse(ids.contains(1));
        assertTrue(ids.contains(2) && ids.contains(3) && ids.contains(4));
        assertEquals(3, ids.size());
        assertTrue(ids.add(1)); // new again; evicts 2
        assertFalse(ids.contains(2));
    }

    @Test
    void zeroAndExtremeIdsAreOrdinaryIds() {
        RecentIds ids = new RecentIds(2);
        assertTrue(ids.add(0));
        assertFalse(ids.add(0));
        assertTrue(ids.add(Long.MIN_VALUE));
        assertTrue(ids.add(Long.MAX_VALUE)); // evicts 0
        assertFalse(ids.contains(0));
        assertTrue(ids.add(0));
    }

    @Test
    void growsUpToItsCapacity() {
        RecentIds ids = new RecentIds(1000);
        for (long i = 1; i <= 1000; i++) {
            assertTrue(ids.add(i * 7919));
        }
        for (long i = 1; i <= 1000; i++) {
            assertTrue(ids.contains(i * 7919));
        }
        assertEquals(1000, ids.size());
    }

    @Test
    void behavesLikeABoundedInsertionOrderedSet() {
        Random random = new Random(1234);
        int capacity = 64;
        RecentIds ids = new RecentIds(capacity);
        Deque<Long> order = new ArrayDeque<>();
        Set<Long> model = new HashSet<>();
        for (int i = 0; i < 200_000; i++) {
            long id = random.nextInt(300) - 5; // small range: many repeats, collisions and evictions
            boolean fresh = !model.contains(id);
            assertEquals(fresh, ids.add(id), "add " + id + " at step " + i);
            if (fresh) {
                order.addLast(id);
                model.add(id);
                if (order.size() > capacity) {
                    model.remove(order.removeFirst());
                }
            }
            assertEquals(model.size(), ids.size());
        }
        for (long id = -5; id < 295; id++) {
            assertEquals(model.contains(id), ids.contains(id), "contains " + id);
        }
    }

    @Test
    void rejectsNonPositiveCapacity() {
        assertThrows(IllegalArgumentException.class, () -> new RecentIds(0));
    }
}
