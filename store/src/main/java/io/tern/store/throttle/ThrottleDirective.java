package io.tern.store.throttle;

/**
 * What every logic node and bypass consumer obeys: the global rate of deliveries per second the permit
 * allows, shared among the live obeyers. Versioned (compare-and-set in {@link DirectiveRepository}); a
 * change is logged with who made it and why.
 *
 * @param version         1 for the first directive, +1 for each change; 0 = none stored yet
 * @param state           open or throttled
 * @param permitPerSecond global permitted deliveries/s, in [0, {@link #MAX_PERMIT}]
 * @param source          "controller" (computed) or "sre" (set by hand; the controller leaves it until released)
 * @param reason          why, for people (e.g. "downstream 83% of 5000/s")
 * @param issuedAtMillis  when this version was written
 */
public record ThrottleDirective(long version, ThrottleState state, long permitPerSecond, String source, String reason,
                                long issuedAtMillis) {
    /** Above any platform this code can drive; a larger permit is a typo, not a plan. */
    public static final long MAX_PERMIT = 100_000_000L;
    public static final String BY_CONTROLLER = "controller";
    public static final String BY_SRE = "sre";
    /** Before any controller ran: no directive; obeyers use their configured fallback rate. */
    public static final ThrottleDirective NONE = new ThrottleDirective(0, ThrottleState.OPEN, 0, BY_CONTROLLER,
            "no directive yet", 0);

    public ThrottleDirective {
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0, got " + version);
        }
        if (state == null) {
            throw new IllegalArgumentException("state is required");
        }
        if (permitPerSecond < 0 || permitPerSecond > MAX_PERMIT) {
            throw new IllegalArgumentException("permitPerSecond must be in [0, " + MAX_PERMIT + "], got "
                    + permitPerSecond);
        }
        source = source == null ? BY_CONTROLLER : source;
        reason = reason == null ? "" : reason;
    }

    public boolean setBySre() {
        return BY_SRE.equals(source);
    }

    /** The next version with a new state, rate, source and reason. */
    public ThrottleDirective next(ThrottleState state, long permitPerSecond, String source, String reason, long atMillis) {
        return new ThrottleDirective(version + 1, state, permitPerSecond, source, reason, atMillis);
    }
}
