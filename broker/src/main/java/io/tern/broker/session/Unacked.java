package io.tern.broker.session;

/**
 * The msgIds written to one connection and not yet acked, oldest first: an ACK counts only for
 * one of these. A connection holds one while it is being written to (it is kept when it empties,
 * and dropped by the idle sweep once the connection stops getting pushes: {@link Session#sweepUnacked}),
 * it starts at {@link #INITIAL} ids and grows by doubling up to its limit; when full,
 * the oldest id is forgotten (its message stays queued and is delivered again on a later
 * connection). Loop-confined: only the connection's event loop touches it. Lookups are a
 * linear scan of a few hundred longs at most (usually one: acks come oldest first), no allocation;
 * adding an id above every one held so far (msgIds are time-ordered) needs no scan at all.
 */
final class Unacked {
    static final int INITIAL = 4;

    private long[] ids;
    private int head;
    private int size;
    // The largest id ever added: every id held is at most this, so a larger one cannot be a second copy.
    private long newest = Long.MIN_VALUE;

    Unacked(int limit) {
        this.ids = new long[Math.min(INITIAL, limit)];
    }

    /**
     * Remembers {@code msgId} as written (again: a second copy of the same message adds nothing).
     *
     * @param limit most ids kept
     * @return true when the oldest id had to be forgotten to make room
     */
    boolean add(long msgId, int limit) {
        if (msgId > newest) {
            newest = msgId;
        } else if (indexOf(msgId) >= 0) {
            return false;
        }
        boolean evicted = false;
        if (size == ids.length) {
            if (ids.length < limit) {
                grow(Math.min(limit, ids.length * 2));
            } else {
                head = at(1);
                size--;
                evicted = true;
            }
        }
        ids[at(size)] = msgId;
        size++;
        return evicted;
    }

    /** @return true when {@code msgId} was outstanding; it no longer is */
    boolean remove(long msgId) {
        int i = indexOf(msgId);
        if (i < 0) {
            return false;
        }
        if (i == 0) { // the oldest, as acks mostly come: nothing to move
            head = at(1);
            size--;
            return true;
        }
        // Close the gap by moving the younger ids one step towards the head.
        for (int k = i; k < size - 1; k++) {
            ids[at(k)] = ids[at(k + 1)];
        }
        size--;
        return true;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** Position from the oldest, or -1. */
    private int indexOf(long msgId) {
        for (int k = 0; k < size; k++) {
            if (ids[at(k)] == msgId) {
                return k;
            }
        }
        return -1;
    }

    /** Array index of the {@code k}-th id from the oldest ({@code k <= size}): a wrap, not a division. */
    private int at(int k) {
        int i = head + k;
        return i >= ids.length ? i - ids.length : i;
    }

    private void grow(int capacity) {
        long[] bigger = new long[capacity];
        for (int k = 0; k < size; k++) {
            bigger[k] = ids[at(k)];
        }
        ids = bigger;
        head = 0;
    }
}
