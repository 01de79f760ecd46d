package io.tern.store.throttle;

/**
 * A lower bound on the bypass consumers' replicas for a time window: set by an SRE ahead of a known peak,
 * or by a logic node ahead of a large scheduled push. A floor is state, not an event: whoever decides
 * replicas reads the floors active now, so a floor acts however often that reader restarts.
 *
 * @param id          unique; writing a floor with the same id replaces it (a rescheduled push moves its floor)
 * @param fromMillis  start of the window, epoch ms (inclusive)
 * @param untilMillis end of the window, epoch ms (exclusive); after it the floor is removed on the next read
 * @param replicas    at least this many replicas while the window is open, in [1, {@link #MAX_REPLICAS}]
 * @param reason      why, for people ("sre: match final", "scheduled task 42 to ~200000 devices")
 */
public record ReplicaFloor(String id, long fromMillis, long untilMillis, int replicas, String reason) {
    /** More replicas than any buffer topic has partitions: a larger floor is a typo, not a plan. */
    public static final int MAX_REPLICAS = 10_000;

    public ReplicaFloor {
        if (id == null || id.isBlank() || id.length() > 200) {
            throw new IllegalArgumentException("id must be 1..200 characters");
        }
        if (untilMillis <= fromMillis) {
            throw new IllegalArgumentException("untilMillis must be after fromMillis");
        }
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("replicas must be in [1, " + MAX_REPLICAS + "], got " + replicas);
        }
        reason = reason == null ? "" : reason;
    }

    /** True while the window is open at {@code nowMillis}. */
    public boolean activeAt(long nowMillis) {
        return fromMillis <= nowMillis && nowMillis < untilMillis;
    }

    /** True once the window has closed at {@code nowMillis}. */
    public boolean expiredAt(long nowMillis) {
        return untilMillis <= nowMillis;
    }
}
