package io.tern.scheduler.policy;

import io.tern.store.region.PolicyChange;
import io.tern.store.region.Region;
import io.tern.store.region.RegionMove;
import io.tern.store.region.RegionPolicy;
import io.tern.store.region.RegionState;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What an SRE may do to the policy, as pure functions of the policy read: each returns the next version
 * or throws a {@link RefusedException}. The caller stores it by compare-and-set.
 *
 * @param stages  the stage plan: a move starts at stage 0 with the first fraction
 * @param minRate lowest {@code ratePerSecond} accepted
 * @param maxRate highest {@code ratePerSecond} accepted
 */
public record RegionCommands(List<Double> stages, int minRate, int maxRate) {

    /**
     * Moves the devices of {@code name} onto the brokers of {@code to}.
     *
     * @param known      regions the policy lists or live brokers report
     * @param liveBrokers live broker count by region
     */
    public PolicyStep failover(RegionPolicy policy, Set<String> known, Map<String, Integer> liveBrokers, String name,
                               String to, int ratePerSecond, String reason, String by, long nowMillis) {
        requireKnown(known, name);
        if (to == null || to.isBlank()) {
            throw Refusal.INVALID_FIELD.because("to: the region to move the devices to is required", "to");
        }
        if (to.equals(name)) {
            throw Refusal.INVALID_FIELD.because("to: a region cannot fail over to itself", "to");
        }
        if (!known.contains(to)) {
            throw Refusal.UNKNOWN_REGION.because("to: no region named '" + to + "'", "to");
        }
        requireRate(ratePerSecond);
        Region region = policy.region(name);
        requireNotMoving(policy, region);
        if (region.state() != RegionState.ACTIVE) {
            throw Refusal.REGION_NOT_ACTIVE.because("region '" + name + "' is " + region.state().wire()
                    + "; fail it back first");
        }
        Region target = policy.region(to);
        if (target.state().evacuated()) {
            throw Refusal.TARGET_UNAVAILABLE.because("target region '" + to + "' is itself " + target.state().wire());
        }
        if (liveBrokers.getOrDefault(to, 0) == 0) {
            throw Refusal.TARGET_UNAVAILABLE.because("target region '" + to + "' has no live brokers");
        }
        long version = policy.version() + 1;
        RegionMove move = new RegionMove(version, RegionMove.Direction.FAILOVER, name, to, ratePerSecond, 0,
                stages.get(0), false, null, nowMillis);
        RegionPolicy next = policy.with(name,
                r -> new Region(name, RegionState.FAILING_OVER, to, move, r.lastMove()), nowMillis);
        return new PolicyStep(next, new PolicyChange(version, nowMillis, by, "failover", name,
                describe(reason, "to " + to + " at " + ratePerSecond + "/s")));
    }

    /** Moves the devices of failed-over {@code name} back from the region serving them. */
    public PolicyStep failback(RegionPolicy policy, Set<String> known, String name, int ratePerSecond, String reason,
                               String by, long nowMillis) {
        requireKnown(known, name);
        requireRate(ratePerSecond);
        Region region = policy.region(name);
        requireNotMoving(policy, region);
        if (region.state() != RegionState.FAILED_OVER) {
            throw Refusal.REGION_NOT_FAILED_OVER.because("region '" + name + "' is " + region.state().wire()
                    + "; only a failed-over region fails back");
        }
        String from = region.servedBy();
        long version = policy.version() + 1;
        RegionMove move = new RegionMove(version, RegionMove.Direction.FAILBACK, from, name, ratePerSecond, 0,
                stages.get(0), false, null, nowMillis);
        RegionPolicy next = policy.with(name,
                r -> new Region(name, RegionState.FAILING_BACK, name, move, r.lastMove()), nowMillis);
        return new PolicyStep(next, new PolicyChange(version, nowMillis, by, "failback", name,
                describe(reason, "from " + from + " at " + ratePerSecond + "/s")));
    }

    /** Refuses a change written against a version that is no longer the stored one ({@code If-Match}). */
    public static void requireVersion(RegionPolicy policy, Long expected) {
        if (expected != null && expected != policy.version()) {
            throw Refusal.STALE_VERSION.because("the policy is at version " + policy.version() + ", not " + expected
                    + "; read it again", "If-Match");
        }
    }

    private static void requireKnown(Set<String> known, String name) {
        if (!known.contains(name)) {
            throw Refusal.UNKNOWN_REGION.because("no region named '" + name + "'");
        }
    }

    private void requireRate(int ratePerSecond) {
        if (ratePerSecond < minRate || ratePerSecond > maxRate) {
            throw Refusal.INVALID_FIELD.because("ratePerSecond must be between " + minRate + " and " + maxRate
                    + ", got " + ratePerSecond, "ratePerSecond");
        }
    }

    /** One move per region, and none out of a region that devices are moving into. */
    private static void requireNotMoving(RegionPolicy policy, Region region) {
        if (region.move() != null || region.state().moving()) {
            throw Refusal.REGION_MOVING.because("region '" + region.name() + "' is already " + region.state().wire());
        }
        for (Region other : policy.regions()) {
            if (other.move() != null && other.move().to().equals(region.name())) {
                throw Refusal.REGION_MOVING.because("devices of region '" + other.name() + "' are moving into '"
                        + region.name() + "'; wait for that move to finish");
            }
        }
    }

    private static String describe(String reason, String what) {
        return reason == null || reason.isBlank() ? what : reason + " (" + what + ")";
    }
}
