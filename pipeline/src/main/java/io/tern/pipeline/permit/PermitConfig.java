package io.tern.pipeline.permit;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import io.tern.store.throttle.ThrottleDirective;

import java.time.Duration;

/**
 * How an obeyer (logic node, bypass consumer) follows the rate controller's permit, keys {@code <role>.permit.*}.
 *
 * @param poll         {@code poll}, default 500ms: how often the directive and the controller's heartbeat are read and
 *                     this obeyer's registration refreshed (a new directive also arrives at once by pub/sub)
 * @param obeyerTtl    {@code obeyer-ttl}, default 3s: a registration not refreshed for this long no longer takes a
 *                     share (must be at least 2 polls)
 * @param holdLast     {@code hold-last}, default 10s: without a controller heartbeat for this long the directive is no
 *                     longer trusted and the fallback rate applies
 * @param fallbackRate {@code fallback-rate}, default 5000: deliveries/s THIS obeyer allows itself when no controller
 *                     keeps a directive (none ever, or its heartbeat is older than hold-last); per obeyer, not shared
 * @param burst        {@code burst}, default 100ms: how much of its share an obeyer may spend at once (the bucket's
 *                     size, at least 1). A bucket of a whole second let up to twice the permit through in the second a
 *                     burst began (full bucket plus refill); 100 ms keeps any second within 1.1 x the share
 * @param idleAfter    {@code idle-after}, default 2s: an obeyer asked for no permit for this long weighs in as idle
 *                     and leaves most of the permit to the busy ones (see {@code PermitObeyers}); busy again, it
 *                     takes its full weight after two polls
 */
public record PermitConfig(Duration poll, Duration obeyerTtl, Duration holdLast, long fallbackRate, Duration burst,
                           Duration idleAfter) {
    public PermitConfig {
        ConfigException.require(poll != null && poll.toMillis() >= 10 && poll.toSeconds() <= 60,
                "permit.poll must be in [10ms, 60s]");
        ConfigException.require(obeyerTtl != null && obeyerTtl.compareTo(poll.multipliedBy(2)) >= 0
                && obeyerTtl.toMinutes() <= 10, "permit.obeyer-ttl must be in [2 x permit.poll, 10m]");
        ConfigException.require(holdLast != null && holdLast.compareTo(poll) >= 0 && holdLast.toHours() <= 1,
                "permit.hold-last must be in [permit.poll, 1h]");
        ConfigException.require(fallbackRate >= 1 && fallbackRate <= ThrottleDirective.MAX_PERMIT,
                "permit.fallback-rate must be in [1, " + ThrottleDirective.MAX_PERMIT + "]");
        ConfigException.require(burst != null && burst.toMillis() >= 1 && burst.toSeconds() <= 10,
                "permit.burst must be in [1ms, 10s]");
        ConfigException.require(idleAfter != null && idleAfter.toMillis() >= 1 && idleAfter.toMinutes() <= 10,
                "permit.idle-after must be in [1ms, 10m]");
    }

    /** With the default burst and idle-after. */
    public PermitConfig(Duration poll, Duration obeyerTtl, Duration holdLast, long fallbackRate) {
        this(poll, obeyerTtl, holdLast, fallbackRate, Duration.ofMillis(100));
    }

    /** With the default idle-after. */
    public PermitConfig(Duration poll, Duration obeyerTtl, Duration holdLast, long fallbackRate, Duration burst) {
        this(poll, obeyerTtl, holdLast, fallbackRate, burst, Duration.ofSeconds(2));
    }

    public static PermitConfig defaults() {
        return new PermitConfig(Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofSeconds(10), 5000,
                Duration.ofMillis(100), Duration.ofSeconds(2));
    }

    /** @param prefix the role's key prefix, e.g. {@code logic} reads {@code logic.permit.*} */
    public static PermitConfig from(Settings s, String prefix) {
        PermitConfig d = defaults();
        String p = prefix + ".permit.";
        return new PermitConfig(
                s.duration(p + "poll", d.poll()),
                s.duration(p + "obeyer-ttl", d.obeyerTtl()),
                s.duration(p + "hold-last", d.holdLast()),
                s.longValue(p + "fallback-rate", d.fallbackRate()),
                s.duration(p + "burst", d.burst()),
                s.duration(p + "idle-after", d.idleAfter()));
    }
}
