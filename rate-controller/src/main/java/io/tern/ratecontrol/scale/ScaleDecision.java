package io.tern.ratecontrol.scale;

import io.tern.store.throttle.ReplicaFloor;

import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * How many bypass consumers the buffer backlog wants: {@code clamp(ceil(lag / lag-per-replica), min, partitions)},
 * raised to the highest active floor (capped at the partitions too: a consumer beyond the partitions of
 * {@code tern.buffer} would get none). Up at once; down only once a lower target has been wanted for
 * {@code scale-down-after}, and then to the highest target wanted in that time, so a backlog that dips for a
 * moment does not shed consumers it needs again a minute later.
 *
 * <p>Pure: no I/O; time comes from the injected clock. Not thread-safe: one scaler loop calls it.
 */
public final class ScaleDecision {

    /**
     * One decision.
     *
     * @param target   the replicas to run now
     * @param wanted   what lag and floors want at this moment (target differs while a scale-down waits)
     * @param changed  target differs from the previous decision's
     * @param why      for people: which rule set the target
     */
    public record Outcome(int target, int wanted, boolean changed, String why, long atMillis) {
    }

    private final int minReplicas;
    private final long lagPerReplica;
    private final long scaleDownAfterMillis;
    private final LongSupplier clock;
    /** The target in force; -1 before the first decision. */
    private int target = -1;
    /** Since when a target below {@link #target} has been wanted (-1: not so). */
    private long lowerSince = -1;
    /** The highest target wanted since {@link #lowerSince}. */
    private int highestLower;

    public ScaleDecision(int minReplicas, long lagPerReplica, Duration scaleDownAfter, LongSupplier clock) {
        if (minReplicas < 0) {
            throw new IllegalArgumentException("minReplicas must be >= 0, got " + minReplicas);
        }
        if (lagPerReplica < 1) {
            throw new IllegalArgumentException("lagPerReplica must be >= 1, got " + lagPerReplica);
        }
        if (scaleDownAfter.isNegative()) {
            throw new IllegalArgumentException("scaleDownAfter must be >= 0");
        }
        this.minReplicas = minReplicas;
        this.lagPerReplica = lagPerReplica;
        this.scaleDownAfterMillis = scaleDownAfter.toMillis();
        this.clock = clock;
    }

    /**
     * Starts from the replicas running now (after a restart: a running fleet is not cut at once, a scale-down
     * waits its full delay again).
     */
    public void startFrom(int running) {
        if (target < 0) {
            target = running;
        }
    }

    /** Drops the target and any pending scale-down: the next decision starts again from what runs. */
    public void forget() {
        target = -1;
        lowerSince = -1;
    }

    /** The target in force, or -1 before the first decision. */
    public int target() {
        return target;
    }

    /**
     * @param lag          records of {@code tern.buffer} not yet committed by the bypass consumers
     * @param partitions   partitions of {@code tern.buffer}: the most consumers that get work
     * @param activeFloors floors whose window is open now
     */
    public Outcome decide(long lag, int partitions, List<ReplicaFloor> activeFloors) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        long now = clock.getAsLong();
        int max = partitions;
        long byLag = lag <= 0 ? 0 : (lag + lagPerReplica - 1) / lagPerReplica;
        int wanted = (int) Math.min(Math.max(byLag, minReplicas), max);
        String why = "lag " + lag + " / " + lagPerReplica + " per replica -> " + byLag
                + (byLag < minReplicas ? ", raised to min " + minReplicas : "")
                + (Math.max(byLag, minReplicas) > max ? ", capped at " + max + " partitions" : "");
        ReplicaFloor highest = null;
        for (ReplicaFloor f : activeFloors) {
            if (highest == null || f.replicas() > highest.replicas()) {
                highest = f;
            }
        }
        if (highest != null && highest.replicas() > wanted) {
            int floored = Math.min(highest.replicas(), max);
            why = "floor " + highest.id() + " (" + highest.replicas() + " replicas" + (floored < highest.replicas()
                    ? ", capped at " + max + " partitions" : "") + ": " + highest.reason() + ") over " + why;
            wanted = Math.max(wanted, floored);
        }
        int previous = target;
        if (target < 0 || wanted >= target) {
            if (wanted > target && target >= 0) {
                why = "up at once: " + why;
            }
            target = wanted;
            lowerSince = -1;
        } else if (lowerSince < 0) {
            lowerSince = now;
            highestLower = wanted;
            why = "holding " + target + " (down waits " + Duration.ofMillis(scaleDownAfterMillis) + "): " + why;
        } else {
            highestLower = Math.max(highestLower, wanted);
            long held = now - lowerSince;
            if (held >= scaleDownAfterMillis) {
                why = "down after " + Duration.ofMillis(held) + " below " + target + " (highest wanted meanwhile "
                        + highestLower + "): " + why;
                target = highestLower;
                lowerSince = -1;
            } else {
                why = "holding " + target + " (down in " + Duration.ofMillis(scaleDownAfterMillis - held) + "): " + why;
            }
        }
        return new Outcome(target, wanted, target != previous, why, now);
    }
}
