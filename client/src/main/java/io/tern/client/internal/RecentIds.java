package io.tern.client.internal;

/**
 * A bounded set of the most recently first-seen message ids: once {@code capacity} ids are
 * held, adding a new one forgets the oldest. Primitive arrays (no boxing) that start small and
 * grow up to the capacity, so thousands of mostly idle clients in one JVM stay cheap: about
 * 24 bytes per id held at most.
 *
 * <p>Not thread-safe: a client touches it from its own event loop only.
 */
public final class RecentIds {
    private static final int INITIAL_RING = 16;
    /** 0 marks an empty table slot; the id 0 itself is tracked by {@link #containsZero}. */
    private static final long EMPTY = 0L;

    private final int capacity;
    /** Insertion order, oldest at {@code start}. */
    private long[] ring;
    private int start;
    private int size;
    /** Open addressing with linear probing, at most half full. */
    private long[] table;
    private int mask;
    private boolean containsZero;

    public RecentIds(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1: " + capacity);
        }
        this.capacity = capacity;
        this.ring = new long[Math.min(capacity, INITIAL_RING)];
        this.table = new long[tableSizeFor(ring.length)];
        this.mask = table.length - 1;
    }

    /**
     * Records {@code id}.
     *
     * @return true if the id is new, false if it is among the recent ids (a duplicate)
     */
    public boolean add(long id) {
        if (contains(id)) {
            return false;
        }
        if (size == capacity) {
            // ring.length == capacity here: the ring only grows while size < capacity
            remove(ring[start]);
            ring[start] = id;
            start = (start + 1) % ring.length;
        } else {
            if (size == ring.length) {
                grow();
            }
            ring[(start + size) % ring.length] = id;
            size++;
        }
        insert(id);
        return true;
    }

    public boolean contains(long id) {
        if (id == EMPTY) {
            return containsZero;
        }
        for (int i = slot(id); table[i] != EMPTY; i = (i + 1) & mask) {
            if (table[i] == id) {
                return true;
            }
        }
        return false;
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    private void grow() {
        int newLength = (int) Math.min(capacity, ring.length * 2L);
        long[] newRing = new long[newLength];
        for (int i = 0; i < size; i++) {
            newRing[i] = ring[(start + i) % ring.length];
        }
        ring = newRing;
        start = 0;
        table = new long[tableSizeFor(newLength)];
        mask = table.length - 1;
        for (int i = 0; i < size; i++) {
            if (ring[i] != EMPTY) {
                insert(ring[i]);
            }
        }
    }

    private void insert(long id) {
        if (id == EMPTY) {
            containsZero = true;
            return;
        }
        int i = slot(id);
        while (table[i] != EMPTY) {
            i = (i + 1) & mask;
        }
        table[i] = id;
    }

    private void remove(long id) {
        if (id == EMPTY) {
            containsZero = false;
            return;
        }
        int hole = slot(id);
        while (table[hole] != id) {
            if (table[hole] == EMPTY) {
                return;
            }
            hole = (hole + 1) & mask;
        }
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        int j = hole;
        while (true) {
            j = (j + 1) & mask;
            long k = table[j];
            if (k == EMPTY) {
                break;
            }
            int home = slot(k);
            boolean homeInGap = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!homeInGap) {
                table[hole] = k;
                hole = j;
            }
        }
        table[hole] = EMPTY;
    }

    private int slot(long id) {
        long h = id * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    private static int tableSizeFor(int entries) {
        int n = Integer.highestOneBit(Math.max(2, entries) * 2 - 1) * 2; // power of two >= 2 * entries
        return Math.max(n, 4);
    }
}
