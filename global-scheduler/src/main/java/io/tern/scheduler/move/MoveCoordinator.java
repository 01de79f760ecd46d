package io.tern.scheduler.move;

import io.tern.scheduler.policy.PolicyStep;
import io.tern.store.region.PolicyChange;
import io.tern.store.region.Region;
import io.tern.store.region.RegionMove;
import io.tern.store.region.RegionPolicy;
import io.tern.store.region.RegionState;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerSnapshot;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Drives every region move from broker reports, as a pure function of what it is shown: {@link #observe}
 * (every instance, every tick) samples how many covered devices are left and the target brokers' connect
 * counters; {@link #next} (the leader) names the next policy step, if any:
 * <ol>
 *   <li>a region in the configuration or reported by live brokers but absent from the policy is added, active;</li>
 *   <li>a move's first tick records how many devices it covers ({@code coveredAtStart});</li>
 *   <li>the move pauses when the target's brokers fail or refuse more than the allowed share of connects
 *       over the window, or their connect p99 is too high, and resumes once they were healthy for
 *       {@code resumeAfterMillis};</li>
 *   <li>a stage ends when {@code left <= coveredAtStart * (1 - stageFraction)}, or when no covered device left
 *       for {@code stageStallMillis} while the move ran: the next one starts. Brokers measure their share of a
 *       stage against their own count when they first saw the move, and the scheduler's {@code coveredAtStart}
 *       comes from reports up to a heartbeat old, so the two can disagree by a few devices; without the
 *       stall rule a stage the brokers consider done would wait for ever;</li>
 *   <li>in the last stage, {@code left == 0} for {@code stageStallMillis} without a break finishes the move: failed-over
 *       after a failover, active after a failback. Not at the first zero: a report up to a heartbeat old can miss a
 *       device that connected just before the move began, and a finished move redirects nobody.</li>
 * </ol>
 * Not thread-safe: one driver thread calls it.
 */
public final class MoveCoordinator {
    private record LeftSample(long atMillis, long left) {
    }

    /** The fewest covered devices left seen in a stage of a move, and since when (progress = a new low). */
    private record StageProgress(long moveId, int stage, long lowest, long sinceMillis) {
    }

    private final List<Double> stages;
    private final double pauseFailureRatio;
    private final long pauseP99Millis;
    private final long resumeAfterMillis;
    private final long windowMillis;
    private final long stageStallMillis;
    private final List<String> configuredRegions;
    private final String by;

    private final ConnectWindow connects;
    /** By region, for the move whose id is in {@link #leftMoveIds}. */
    private final Map<String, Deque<LeftSample>> leftSamples = new HashMap<>();
    private final Map<String, Long> leftMoveIds = new HashMap<>();
    /** By target region: since when its brokers' figures were healthy without a break (absent: unhealthy). */
    private final Map<String, Long> healthySince = new HashMap<>();
    private final Map<String, String> unhealthyReason = new HashMap<>();
    private final Map<String, StageProgress> stageProgress = new HashMap<>();
    /** By region: since when its move has had nothing left without a break (absent: something left). */
    private final Map<String, Long> emptySince = new HashMap<>();

    /**
     * @param configuredRegions regions the policy must hold even before a broker reports them
     * @param by                who the scheduler's steps are recorded as, {@code scheduler:<id>}
     * @param stageStallMillis  a running stage in which no covered device left for this long is over
     */
    public MoveCoordinator(List<Double> stages, double pauseFailureRatio, long pauseP99Millis, long resumeAfterMillis,
                           long windowMillis, List<String> configuredRegions, String by, long stageStallMillis) {
        this.stages = List.copyOf(stages);
        this.pauseFailureRatio = pauseFailureRatio;
        this.pauseP99Millis = pauseP99Millis;
        this.resumeAfterMillis = resumeAfterMillis;
        this.windowMillis = windowMillis;
        this.stageStallMillis = stageStallMillis;
        this.configuredRegions = List.copyOf(configuredRegions);
        this.by = by;
        this.connects = new ConnectWindow(windowMillis);
    }

    /**
     * Covered devices still to leave: on the live brokers of {@code move.from}, every session for a
     * failover, those whose home is {@code region} for a failback.
     */
    public static long left(String region, RegionMove move, BrokerSnapshot snapshot) {
        long left = 0;
        for (BrokerInfo b : snapshot.brokers()) {
            if (b.region().equals(move.from())) {
                left += move.direction() == RegionMove.Direction.FAILOVER ? b.connections() : b.sessionsOf(region);
            }
        }
        return left;
    }

    /** Samples the moves' counts and the targets' connect counters. */
    public void observe(RegionPolicy policy, BrokerSnapshot snapshot, long now) {
        Set<String> liveIds = new HashSet<>(snapshot.byId().keySet());
        connects.observe(snapshot.brokers(), liveIds, now);
        Set<String> moving = new HashSet<>();
        Set<String> targets = new HashSet<>();
        for (Region r : policy.regions()) {
            RegionMove move = r.move();
            if (move == null) {
                continue;
            }
            moving.add(r.name());
            targets.add(move.to());
            if (!Long.valueOf(move.id()).equals(leftMoveIds.put(r.name(), move.id()))) {
                leftSamples.put(r.name(), new ArrayDeque<>());
            }
            Deque<LeftSample> samples = leftSamples.get(r.name());
            long left = left(r.name(), move, snapshot);
            samples.addLast(new LeftSample(now, left));
            if (left == 0) {
                emptySince.putIfAbsent(r.name(), now);
            } else {
                emptySince.remove(r.name());
            }
            StageProgress p = stageProgress.get(r.name());
            // A paused move makes no progress by design: the stall clock restarts when it runs again.
            if (p == null || p.moveId() != move.id() || p.stage() != move.stage() || move.paused() || left < p.lowest()) {
                stageProgress.put(r.name(), new StageProgress(move.id(), move.stage(), left, now));
            }
            while (samples.size() >= 2 && secondOf(samples).atMillis <= now - windowMillis) {
                samples.removeFirst();
            }
            String reason = unhealthy(move.to(), snapshot);
            if (reason != null) {
                healthySince.remove(move.to());
                unhealthyReason.put(move.to(), reason);
            } else {
                healthySince.putIfAbsent(move.to(), now);
                unhealthyReason.remove(move.to());
            }
        }
        leftSamples.keySet().retainAll(moving);
        leftMoveIds.keySet().retainAll(moving);
        stageProgress.keySet().retainAll(moving);
        emptySince.keySet().retainAll(moving);
        healthySince.keySet().retainAll(targets);
        unhealthyReason.keySet().retainAll(targets);
    }

    /** Figures of {@code region}'s move as last observed; zero rate before two samples. */
    public MoveFigures figures(String region, RegionMove move, BrokerSnapshot snapshot) {
        long left = left(region, move, snapshot);
        long moved = move.coveredAtStart() == null ? 0 : Math.max(0, move.coveredAtStart() - left);
        double rate = 0;
        Deque<LeftSample> samples = leftSamples.get(region);
        if (samples != null && samples.size() >= 2 && Long.valueOf(move.id()).equals(leftMoveIds.get(region))) {
            LeftSample first = samples.peekFirst();
            LeftSample last = samples.peekLast();
            if (last.atMillis > first.atMillis) {
                rate = Math.max(0, first.left - last.left) * 1000.0 / (last.atMillis - first.atMillis);
            }
        }
        return new MoveFigures(left, moved, rate);
    }

    /**
     * The next step for {@code policy}, or null when nothing is due. Call after {@link #observe} with
     * the same snapshot; the snapshot must be fresh (an old or empty one would finish moves early).
     */
    public PolicyStep next(RegionPolicy policy, BrokerSnapshot snapshot, long now) {
        PolicyStep add = addMissingRegions(policy, snapshot, now);
        if (add != null) {
            return add;
        }
        for (Region r : policy.regions()) {
            if (r.move() != null) {
                PolicyStep step = nextForMove(policy, r, snapshot, now);
                if (step != null) {
                    return step;
                }
            }
        }
        return null;
    }

    private PolicyStep addMissingRegions(RegionPolicy policy, BrokerSnapshot snapshot, long now) {
        Set<String> listed = policy.byName().keySet();
        Set<String> wanted = new LinkedHashSet<>(configuredRegions);
        for (BrokerInfo b : snapshot.brokers()) {
            wanted.add(b.region());
        }
        wanted.removeAll(listed);
        if (wanted.isEmpty()) {
            return null;
        }
        // One region per step: each audit entry names one region.
        String name = wanted.iterator().next();
        List<Region> regions = new ArrayList<>(policy.regions());
        regions.add(Region.active(name));
        RegionPolicy next = new RegionPolicy(policy.version() + 1, now, regions);
        return step(next, "add", name, configuredRegions.contains(name) ? "active: configured"
                : "active: reported by live brokers");
    }

    private PolicyStep nextForMove(RegionPolicy policy, Region region, BrokerSnapshot snapshot, long now) {
        RegionMove move = region.move();
        String name = region.name();
        long left = left(name, move, snapshot);
        if (move.coveredAtStart() == null) {
            return moveStep(policy, region, move.withCoveredAtStart(left), now, "start",
                    "covers " + left + " devices on the brokers of " + move.from());
        }
        String reason = unhealthyReason.get(move.to());
        if (!move.paused() && reason != null) {
            return moveStep(policy, region, move.withPause(true, reason), now, "pause", reason);
        }
        Long since = healthySince.get(move.to());
        if (move.paused() && since != null && now - since >= resumeAfterMillis) {
            return moveStep(policy, region, move.withPause(false, null), now, "resume",
                    "target " + move.to() + " healthy for " + (now - since) + " ms");
        }
        int last = stages.size() - 1;
        long covered = move.coveredAtStart();
        boolean reached = left <= covered * (1 - move.stageFraction());
        StageProgress p = stageProgress.get(name);
        boolean stalled = !move.paused() && p != null && p.moveId() == move.id() && p.stage() == move.stage()
                && now - p.sinceMillis() >= stageStallMillis;
        if (move.stage() < last && (reached || stalled)) {
            int stage = move.stage() + 1;
            double fraction = stages.get(stage);
            return moveStep(policy, region, move.withStage(stage, fraction), now, "stage",
                    "stage " + stage + " (" + percent(fraction) + "): " + left + " of " + covered + " devices left"
                            + (reached ? "" : "; none left for " + (now - p.sinceMillis()) + " ms, the brokers' share is done"));
        }
        Long empty = emptySince.get(name);
        if (move.stage() >= last && left == 0 && empty != null && now - empty >= stageStallMillis) {
            RegionMove done = move.finished(now);
            Region finished = move.direction() == RegionMove.Direction.FAILOVER
                    ? new Region(name, RegionState.FAILED_OVER, move.to(), null, done)
                    : new Region(name, RegionState.ACTIVE, name, null, done);
            RegionPolicy next = policy.with(name, r -> finished, now);
            return step(next, "done", name, move.direction().wire() + " " + move.from() + " -> " + move.to() + ": "
                    + covered + " devices in " + (now - move.startedAtMillis()) + " ms; " + finished.state().wire());
        }
        return null;
    }

    /** Why the target's brokers are unhealthy now, or null when they are not. */
    private String unhealthy(String target, BrokerSnapshot snapshot) {
        Collection<BrokerInfo> brokers = snapshot.brokers().stream().filter(b -> b.region().equals(target)).toList();
        ConnectWindow.Figures f = connects.figures(brokers);
        if (f.attempts() > 0 && f.failureRatio() > pauseFailureRatio) {
            return String.format(Locale.ROOT, "target %s connect failures %.1f %% > %s (%d refused, %d failed of %d in %d ms)",
                    target, f.failureRatio() * 100, percent(pauseFailureRatio), f.refused(), f.failed(), f.attempts(),
                    windowMillis);
        }
        if (f.maxP99Millis() > pauseP99Millis) {
            return "target " + target + " connect p99 " + f.maxP99Millis() + " ms > " + pauseP99Millis + " ms";
        }
        return null;
    }

    private PolicyStep moveStep(RegionPolicy policy, Region region, RegionMove move, long now, String action,
                                String detail) {
        return step(policy.with(region.name(), r -> r.withMove(move), now), action, region.name(), detail);
    }

    private PolicyStep step(RegionPolicy next, String action, String region, String detail) {
        return new PolicyStep(next, new PolicyChange(next.version(), next.updatedAtMillis(), by, action, region, detail));
    }

    private static String percent(double fraction) {
        return String.format(Locale.ROOT, "%s %%", new java.math.BigDecimal(Double.toString(fraction * 100))
                .stripTrailingZeros().toPlainString());
    }

    private static LeftSample secondOf(Deque<LeftSample> samples) {
        var it = samples.iterator();
        it.next();
        return it.next();
    }
}
