package io.tern.ratecontrol.decision;

import io.tern.ratecontrol.load.PlatformLoad;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;

import java.util.ArrayDeque;
import java.util.Locale;

/**
 * The controller's decision, a pure function of the directive in force, the load and the time.
 * <ul>
 *   <li>OPEN: permit = capacity × throttle-at. Everything the obeyers let through is already held to that.</li>
 *   <li>OPEN → THROTTLED when downstream ≥ throttle-at × capacity; the permit then leaves room for what the permit
 *       does not gate: max(min-permit, throttle-at × capacity − ungated), with ungated the highest seen over the
 *       last min-dwell, so a load that swings does not swing the permit with it.</li>
 *   <li>THROTTLED → OPEN only when downstream falls below release-below × capacity (hysteresis).</li>
 *   <li>A new version only for a state flip or a permit change larger than permit-step (relative), and never
 *       sooner than min-dwell after the directive in force was issued: this bounds the changes to one per dwell
 *       whatever the load does; a new leader continues the dwell from the stored directive.</li>
 *   <li>An SRE's directive is left alone; without any capacity reported nothing is decided.</li>
 * </ul>
 * Not thread-safe: one control loop calls it.
 */
public final class ThrottleController {
    /** Bound on the samples of the ungated load kept (one per tick over min-dwell). */
    static final int MAX_SAMPLES = 10_000;

    private final double throttleAt;
    private final double releaseBelow;
    private final long minDwellMillis;
    private final double permitStep;
    private final long minPermit;
    private final long maxPermit;
    private final ArrayDeque<long[]> ungatedSamples = new ArrayDeque<>(); // {atMillis, deliveries/s}

    public ThrottleController(double throttleAt, double releaseBelow, long minDwellMillis, double permitStep,
                              long minPermit, long maxPermit) {
        if (!(throttleAt > 0 && throttleAt <= 1 && releaseBelow > 0 && releaseBelow < throttleAt)) {
            throw new IllegalArgumentException("need 0 < release-below < throttle-at <= 1, got " + releaseBelow
                    + " and " + throttleAt);
        }
        if (minDwellMillis < 0 || permitStep < 0 || minPermit < 0 || maxPermit < minPermit
                || maxPermit > ThrottleDirective.MAX_PERMIT) {
            throw new IllegalArgumentException("bad dwell, step or permit bounds");
        }
        this.throttleAt = throttleAt;
        this.releaseBelow = releaseBelow;
        this.minDwellMillis = minDwellMillis;
        this.permitStep = permitStep;
        this.minPermit = minPermit;
        this.maxPermit = maxPermit;
    }

    /** @return the next directive to store, or null to keep {@code current} */
    public ThrottleDirective decide(ThrottleDirective current, PlatformLoad load, long nowMillis) {
        double ungated = peakUngated(load, nowMillis);
        if (current.setBySre() || load.capacity() <= 0) {
            return null;
        }
        boolean first = current.version() == 0;
        ThrottleState state = first ? fresh(load) : next(current.state(), load);
        long permit = permit(state, load.capacity(), ungated);
        boolean flip = first || state != current.state();
        if (!flip && !moved(current.permitPerSecond(), permit)) {
            return null;
        }
        if (!first && nowMillis - current.issuedAtMillis() < minDwellMillis) {
            return null;
        }
        return current.next(state, permit, ThrottleDirective.BY_CONTROLLER, reason(state, load, ungated), nowMillis);
    }

    /**
     * What the controller sets with no history to follow: after an SRE releases the throttle, or in place of an
     * unreadable stored directive. Without capacity it keeps {@code keepPermit} (open).
     */
    public ThrottleDirective restart(long version, long keepPermit, PlatformLoad load, long nowMillis,
                                     String why) {
        if (load.capacity() <= 0) {
            return new ThrottleDirective(version, ThrottleState.OPEN, Math.max(0, Math.min(keepPermit, maxPermit)),
                    ThrottleDirective.BY_CONTROLLER, why + "; no broker reports its capacity", nowMillis);
        }
        ThrottleState state = fresh(load);
        return new ThrottleDirective(version, state, permit(state, load.capacity(), load.ungated()),
                ThrottleDirective.BY_CONTROLLER,
                why + "; " + reason(state, load, load.ungated()), nowMillis);
    }

    private ThrottleState fresh(PlatformLoad load) {
        return load.ratio() >= throttleAt ? ThrottleState.THROTTLED : ThrottleState.OPEN;
    }

    private ThrottleState next(ThrottleState state, PlatformLoad load) {
        double ratio = load.ratio();
        return switch (state) {
            case OPEN -> ratio >= throttleAt ? ThrottleState.THROTTLED : ThrottleState.OPEN;
            case THROTTLED -> ratio < releaseBelow ? ThrottleState.OPEN : ThrottleState.THROTTLED;
        };
    }

    private long permit(ThrottleState state, long capacity, double ungated) {
        double target = throttleAt * capacity;
        double permit = state == ThrottleState.OPEN ? target : Math.max(minPermit, target - ungated);
        return Math.min(maxPermit, Math.round(permit));
    }

    /** Records this tick's ungated load and returns the highest over the last min-dwell. */
    private double peakUngated(PlatformLoad load, long nowMillis) {
        ungatedSamples.addLast(new long[]{nowMillis, Math.round(load.ungated())});
        while (ungatedSamples.size() > MAX_SAMPLES
                || (!ungatedSamples.isEmpty() && ungatedSamples.peekFirst()[0] < nowMillis - minDwellMillis)) {
            ungatedSamples.removeFirst();
        }
        long peak = 0;
        for (long[] s : ungatedSamples) {
            peak = Math.max(peak, s[1]);
        }
        return Math.max(peak, load.ungated());
    }

    private boolean moved(long from, long to) {
        if (from == to) {
            return false;
        }
        return Math.abs(to - from) > permitStep * Math.max(1, from);
    }

    private String reason(ThrottleState state, PlatformLoad load, double ungated) {
        String base = String.format(Locale.ROOT, "downstream %.0f%% of %d/s", load.ratio() * 100, load.capacity());
        if (state == ThrottleState.OPEN) {
            return base;
        }
        return base + String.format(Locale.ROOT, ", ungated %.0f/s%s", ungated,
                load.gated().isPresent() ? "" : " (no obeyer reports: all counted as ungated)");
    }
}
