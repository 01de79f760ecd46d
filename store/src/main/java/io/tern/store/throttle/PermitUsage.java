package io.tern.store.throttle;

/**
 * One obeyer's report: the deliveries per second it let through the permit over its last second, valid until
 * {@code untilMillis} (an obeyer that stops reporting stops counting).
 */
public record PermitUsage(double gatedPerSecond, long untilMillis) {
    public PermitUsage {
        if (!(gatedPerSecond >= 0) || gatedPerSecond > ThrottleDirective.MAX_PERMIT) {
            throw new IllegalArgumentException("gatedPerSecond must be in [0, " + ThrottleDirective.MAX_PERMIT
                    + "], got " + gatedPerSecond);
        }
    }
}
