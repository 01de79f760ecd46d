package io.tern.pipeline.id;

import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;

import java.util.function.LongSupplier;

/**
 * Time-ordered, unique 64-bit message ids: 41 bits of milliseconds since 2026-01-01, 10 bits of
 * node id, 12 bits of per-millisecond sequence (4096 ids per ms per node). Ids sort by creation
 * time, which the per-device queue relies on.
 * <p>
 * The node id comes from a {@link NodeIdSource} (in production the {@link NodeIdLease}): while it
 * grants none, no id is issued (503), and each new grant starts above its high-water mark, the
 * last millisecond an earlier holder of that node id may have used.
 */
public final class MsgIdGenerator {
    static final long EPOCH_MILLIS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    private static final int NODE_BITS = 10;
    private static final int SEQ_BITS = 12;
    private static final long SEQ_MASK = (1L << SEQ_BITS) - 1;

    /** A node id this node may issue ids with, above {@code floorMillis}. */
    public record Grant(int nodeId, long floorMillis) {
        public Grant {
            if (nodeId < 0 || nodeId >= (1 << NODE_BITS)) {
                throw new IllegalArgumentException("nodeId must be in [0, 1023]: " + nodeId);
            }
        }
    }

    /** Where the node id comes from; null while this node may not issue ids. */
    @FunctionalInterface
    public interface NodeIdSource {
        Grant current();
    }

    private final NodeIdSource source;
    private final LongSupplier clock;
    private Grant grant;
    private long lastMillis = -1;
    private long sequence;

    public MsgIdGenerator(NodeIdSource source, LongSupplier clockMillis) {
        this.source = source;
        this.clock = clockMillis;
    }

    /** A generator with a fixed node id (tests, tools): the caller guarantees no one else uses it. */
    public MsgIdGenerator(int nodeId, LongSupplier clockMillis) {
        this(fixed(nodeId), clockMillis);
    }

    private static NodeIdSource fixed(int nodeId) {
        Grant g = new Grant(nodeId, 0);
        return () -> g;
    }

    /** @throws PushException IDS_UNAVAILABLE while this node holds no node id */
    public synchronized long next() {
        Grant g = source.current();
        if (g == null) {
            throw new PushException(PushError.IDS_UNAVAILABLE,
                    "this logic node holds no msgId node id right now (Redis unreachable or lease lost); retry", null, 1);
        }
        if (g != grant) {
            grant = g;
            if (g.floorMillis() >= lastMillis) {
                // The next id borrows floor + 1: above every id an earlier holder may have issued.
                lastMillis = g.floorMillis();
                sequence = SEQ_MASK;
            }
        }
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
        return ((now - EPOCH_MILLIS) << (NODE_BITS + SEQ_BITS)) | ((long) g.nodeId() << SEQ_BITS) | sequence;
    }

    /** The creation time encoded in {@code msgId}. */
    public static long timestampOf(long msgId) {
        return (msgId >>> (NODE_BITS + SEQ_BITS)) + EPOCH_MILLIS;
    }

    /** The node id encoded in {@code msgId}. */
    public static int nodeIdOf(long msgId) {
        return (int) ((msgId >>> SEQ_BITS) & ((1L << NODE_BITS) - 1));
    }
}
