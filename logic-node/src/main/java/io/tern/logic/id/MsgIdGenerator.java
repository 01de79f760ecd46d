package io.tern.logic.id;

import java.util.function.LongSupplier;

/**
 * Time-ordered, unique 64-bit message ids: 41 bits of milliseconds since 2026-01-01, 10 bits of
 * node id, 12 bits of per-millisecond sequence (4096 ids per ms per node). Ids sort by creation
 * time, which the per-device queue relies on.
 */
public final class MsgIdGenerator {
    static final long EPOCH_MILLIS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    private static final int NODE_BITS = 10;
    private static final int SEQ_BITS = 12;
    private static final long SEQ_MASK = (1L << SEQ_BITS) - 1;

    private final long node;
    private final LongSupplier clock;
    private long lastMillis = -1;
    private long sequence;

    public MsgIdGenerator(int nodeId, LongSupplier clockMillis) {
        if (nodeId < 0 || nodeId >= (1 << NODE_BITS)) {
            throw new IllegalArgumentException("nodeId must be in [0, 1023]: " + nodeId);
        }
        this.node = nodeId;
        this.clock = clockMillis;
    }

    public synchronized long next() {
        long now = clock.getAsLong();
        // A clock that steps back must not repeat ids: keep using the last millisecond.
        if (now < lastMillis) {
            now = lastMillis;
        }
        if (now == lastMillis) {
            sequence = (sequence + 1) & SEQ_MASK;
            if (sequence == 0) {
                now = ++lastMillis; // sequence exhausted: borrow the next millisecond
            }
        } else {
            sequence = 0;
        }
        lastMillis = now;
        return ((now - EPOCH_MILLIS) << (NODE_BITS + SEQ_BITS)) | (node << SEQ_BITS) | sequence;
    }

    /** The creation time encoded in {@code msgId}. */
    public static long timestampOf(long msgId) {
        return (msgId >>> (NODE_BITS + SEQ_BITS)) + EPOCH_MILLIS;
    }
}
