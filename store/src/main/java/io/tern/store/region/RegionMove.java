package io.tern.store.region;

/**
 * A move of one region's devices in progress: the brokers of region {@code from} send REDIRECT
 * REGION_MOVED to the devices it covers, at {@code ratePerSecond} spread over those brokers, until
 * {@code stageFraction} of the devices they held when the stage began have left. A failover covers
 * every session on {@code from}'s brokers; a failback only the sessions whose home region is the
 * moving region. Devices re-dispatch and the dispatcher sends them to {@code to}.
 *
 * @param id             the policy version that started the move: brokers keep per-move counts under it
 * @param direction      failover or failback
 * @param from           region whose brokers redirect
 * @param to             region the devices land in
 * @param ratePerSecond  redirects per second over all of {@code from}'s brokers
 * @param stage          index into the stage plan, 0-based
 * @param stageFraction  share of the covered devices to have moved by the end of this stage, (0, 1]
 * @param paused         brokers send no redirect while true
 * @param pausedReason   why, e.g. "target connect failures 3.1 % > 1 %"; null when not paused
 * @param startedAtMillis when the move began
 * @param coveredAtStart devices the move covered when the scheduler first counted them (its first tick):
 *                       stages are measured against it; null until then
 * @param finishedAtMillis when the move completed; null while it is under way
 */
public record RegionMove(long id, Direction direction, String from, String to, int ratePerSecond, int stage,
                         double stageFraction, boolean paused, String pausedReason, long startedAtMillis,
                         Long coveredAtStart, Long finishedAtMillis) {

    public enum Direction {
        FAILOVER, FAILBACK;

        @com.fasterxml.jackson.annotation.JsonValue
        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Direction of(String wire) {
            return valueOf(wire.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** A move just started: nothing counted yet. */
    public RegionMove(long id, Direction direction, String from, String to, int ratePerSecond, int stage,
                      double stageFraction, boolean paused, String pausedReason, long startedAtMillis) {
        this(id, direction, from, to, ratePerSecond, stage, stageFraction, paused, pausedReason, startedAtMillis,
                null, null);
    }

    public RegionMove {
        if (stageFraction <= 0 || stageFraction > 1) {
            throw new IllegalArgumentException("stageFraction must be in (0, 1], got " + stageFraction);
        }
        if (ratePerSecond < 1) {
            throw new IllegalArgumentException("ratePerSecond must be at least 1, got " + ratePerSecond);
        }
    }

    /**
     * Whether a broker of {@code brokerRegion} must move a session whose device's home region is
     * {@code homeRegion}, for a move of region {@code region}.
     */
    public boolean covers(String region, String brokerRegion, String homeRegion) {
        if (!from.equals(brokerRegion)) {
            return false;
        }
        return direction == Direction.FAILOVER || region.equals(homeRegion);
    }

    public RegionMove withStage(int nextStage, double fraction) {
        return new RegionMove(id, direction, from, to, ratePerSecond, nextStage, fraction, paused, pausedReason,
                startedAtMillis, coveredAtStart, finishedAtMillis);
    }

    public RegionMove withPause(boolean pause, String reason) {
        return new RegionMove(id, direction, from, to, ratePerSecond, stage, stageFraction, pause,
                pause ? reason : null, startedAtMillis, coveredAtStart, finishedAtMillis);
    }

    /** The move with the count of devices it covers at its start recorded. */
    public RegionMove withCoveredAtStart(long covered) {
        return new RegionMove(id, direction, from, to, ratePerSecond, stage, stageFraction, paused, pausedReason,
                startedAtMillis, covered, finishedAtMillis);
    }

    /** The move as it completed, unpaused. */
    public RegionMove finished(long atMillis) {
        return new RegionMove(id, direction, from, to, ratePerSecond, stage, stageFraction, false, null,
                startedAtMillis, coveredAtStart, atMillis);
    }
}
