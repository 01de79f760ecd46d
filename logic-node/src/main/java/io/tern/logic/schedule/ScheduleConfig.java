package io.tern.logic.schedule;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import io.tern.store.throttle.ReplicaFloor;

import java.time.Duration;

/**
 * Scheduled pushes, keys {@code logic.schedule.*}.
 *
 * @param rescan       how often the durable schedule in Redis is read again (entries from other nodes,
 *                     from before a restart, retries)
 * @param maxAhead     latest sendAt accepted, from now
 * @param lookahead    only entries due within this window are armed as Quartz triggers (memory stays
 *                     bounded however many tasks are scheduled days ahead); must exceed {@code rescan}
 * @param maxArmed     most triggers armed on one node; the rest wait for a later rescan
 * @param retryDelay   a firing whose handler failed is tried again this much later
 * @param maxAttempts  firings of one task before it is given up (logged at ERROR)
 * @param fireTimeout  bound on the push handler; a firing that took longer counts as failed. The claim
 *                     of a firing lasts twice this, after which another node may take the task over
 * @param peakThreshold a scheduled push to more devices than this (estimated, see {@link PeakFloors}) raises the
 *                      bypass consumers' replica floor ahead of its sendAt; default 100000
 * @param peakReplicas  that floor's replicas; default 4
 * @param peakLead      the floor starts this long before sendAt; default 10m
 * @param peakHold      and ends this long after it; default 30m
 */
public record ScheduleConfig(Duration rescan, Duration maxAhead, Duration lookahead, int maxArmed,
                             Duration retryDelay, int maxAttempts, Duration fireTimeout, long peakThreshold,
                             int peakReplicas, Duration peakLead, Duration peakHold) {

    public static final Duration DEFAULT_RESCAN = Duration.ofSeconds(5);
    public static final Duration DEFAULT_MAX_AHEAD = Duration.ofDays(7);
    public static final Duration DEFAULT_LOOKAHEAD = Duration.ofMinutes(1);
    public static final int DEFAULT_MAX_ARMED = 10_000;
    public static final Duration DEFAULT_RETRY_DELAY = Duration.ofSeconds(3);
    public static final int DEFAULT_MAX_ATTEMPTS = 5;
    public static final Duration DEFAULT_FIRE_TIMEOUT = Duration.ofSeconds(30);
    public static final long DEFAULT_PEAK_THRESHOLD = 100_000;
    public static final int DEFAULT_PEAK_REPLICAS = 4;
    public static final Duration DEFAULT_PEAK_LEAD = Duration.ofMinutes(10);
    public static final Duration DEFAULT_PEAK_HOLD = Duration.ofMinutes(30);

    public ScheduleConfig {
        ConfigException.require(rescan.toMillis() >= 10, "logic.schedule.rescan must be >= 10ms");
        ConfigException.require(maxAhead.toMillis() >= 1000, "logic.schedule.max-ahead must be >= 1s");
        ConfigException.require(lookahead.compareTo(rescan) > 0, "logic.schedule.lookahead must be > logic.schedule.rescan");
        ConfigException.require(maxArmed >= 1 && maxArmed <= 1_000_000, "logic.schedule.max-armed must be in [1, 1000000]");
        ConfigException.require(retryDelay.toMillis() >= 1, "logic.schedule.retry-delay must be >= 1ms");
        ConfigException.require(maxAttempts >= 1 && maxAttempts <= 100, "logic.schedule.max-attempts must be in [1, 100]");
        ConfigException.require(fireTimeout.toMillis() >= 10, "logic.schedule.fire-timeout must be >= 10ms");
        ConfigException.require(peakThreshold >= 1, "logic.schedule.peak-threshold must be >= 1");
        ConfigException.require(peakReplicas >= 1 && peakReplicas <= ReplicaFloor.MAX_REPLICAS,
                "logic.schedule.peak-replicas must be in [1, " + ReplicaFloor.MAX_REPLICAS + "]");
        ConfigException.require(!peakLead.isNegative() && peakLead.compareTo(Duration.ofDays(1)) <= 0,
                "logic.schedule.peak-lead must be in [0, 1d]");
        ConfigException.require(peakHold.toMillis() >= 1000 && peakHold.compareTo(Duration.ofDays(1)) <= 0,
                "logic.schedule.peak-hold must be in [1s, 1d]");
    }

    public static ScheduleConfig defaults() {
        return new ScheduleConfig(DEFAULT_RESCAN, DEFAULT_MAX_AHEAD, DEFAULT_LOOKAHEAD, DEFAULT_MAX_ARMED,
                DEFAULT_RETRY_DELAY, DEFAULT_MAX_ATTEMPTS, DEFAULT_FIRE_TIMEOUT, DEFAULT_PEAK_THRESHOLD,
                DEFAULT_PEAK_REPLICAS, DEFAULT_PEAK_LEAD, DEFAULT_PEAK_HOLD);
    }

    /** Reads {@code logic.schedule.*}; the caller's {@code warnUnread("logic.")} reports typos. */
    public static ScheduleConfig from(Settings s) {
        return new ScheduleConfig(
                s.duration("logic.schedule.rescan", DEFAULT_RESCAN),
                s.duration("logic.schedule.max-ahead", DEFAULT_MAX_AHEAD),
                s.duration("logic.schedule.lookahead", DEFAULT_LOOKAHEAD),
                s.integer("logic.schedule.max-armed", DEFAULT_MAX_ARMED),
                s.duration("logic.schedule.retry-delay", DEFAULT_RETRY_DELAY),
                s.integer("logic.schedule.max-attempts", DEFAULT_MAX_ATTEMPTS),
                s.duration("logic.schedule.fire-timeout", DEFAULT_FIRE_TIMEOUT),
                s.longValue("logic.schedule.peak-threshold", DEFAULT_PEAK_THRESHOLD),
                s.integer("logic.schedule.peak-replicas", DEFAULT_PEAK_REPLICAS),
                s.duration("logic.schedule.peak-lead", DEFAULT_PEAK_LEAD),
                s.duration("logic.schedule.peak-hold", DEFAULT_PEAK_HOLD));
    }

    /** How long a claimed firing is reserved to the node that claimed it. */
    public Duration claimLease() {
        return fireTimeout.multipliedBy(2);
    }
}
