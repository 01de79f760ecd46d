package io.tern.pipeline.kafka;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.time.Duration;

/**
 * How the logic node's Kafka consumers (receipts, tag-push jobs) survive failures, keys {@code logic.consumer.*}.
 *
 * @param sessionTimeout  a member that stops heartbeating loses its partitions after this: how long a dead node's
 *                        receipts wait. Must lie within the Kafka brokers' {@code group.min.session.timeout.ms}
 *                        (default 6 s) and {@code group.max.session.timeout.ms}; heartbeats go every third of it, at most
 *                        every second (how soon the others hear of a rebalance)
 * @param maxAttempts     attempts of a record (alone or in its batch) before it goes to the dead-letter topic
 * @param retryPause      pause between two attempts of a failing batch or record
 * @param backoffInitial  first delay before a failed consumer is started again; doubled per failure
 * @param backoffMax      longest such delay
 * @param unassignedGrace how long a consumer may be without a group assignment (starting, rebalancing)
 *                        before /health says DOWN
 */
public record ConsumerPolicy(Duration sessionTimeout, int maxAttempts, Duration retryPause, Duration backoffInitial,
                             Duration backoffMax, Duration unassignedGrace) {
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(6);
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final Duration DEFAULT_RETRY_PAUSE = Duration.ofMillis(200);
    public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofMillis(500);
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(30);
    public static final Duration DEFAULT_UNASSIGNED_GRACE = Duration.ofSeconds(30);

    public ConsumerPolicy {
        ConfigException.require(sessionTimeout.toMillis() >= 300 && sessionTimeout.compareTo(Duration.ofMinutes(30)) <= 0,
                "logic.consumer.session-timeout must be in [300ms, 30m]");
        ConfigException.require(maxAttempts >= 1 && maxAttempts <= 100, "logic.consumer.max-attempts must be in [1, 100]");
        ConfigException.require(!retryPause.isNegative() && retryPause.compareTo(Duration.ofMinutes(1)) <= 0,
                "logic.consumer.retry-pause must be in [0, 1m]");
        ConfigException.require(backoffInitial.toMillis() >= 1, "logic.consumer.backoff-initial must be >= 1ms");
        ConfigException.require(backoffMax.compareTo(backoffInitial) >= 0 && backoffMax.compareTo(Duration.ofHours(1)) <= 0,
                "logic.consumer.backoff-max must be in [logic.consumer.backoff-initial, 1h]");
        ConfigException.require(unassignedGrace.toMillis() >= 1, "logic.consumer.unassigned-grace must be >= 1ms");
    }

    public static ConsumerPolicy defaults() {
        return new ConsumerPolicy(DEFAULT_SESSION_TIMEOUT, DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_PAUSE,
                DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX, DEFAULT_UNASSIGNED_GRACE);
    }

    /** Delay before restart number {@code failures} (1-based): doubling, capped. */
    public Duration backoff(int failures) {
        long base = backoffInitial.toMillis();
        long d = failures >= 40 ? Long.MAX_VALUE : base << Math.max(0, failures - 1);
        return Duration.ofMillis(d <= 0 ? backoffMax.toMillis() : Math.min(backoffMax.toMillis(), d));
    }

    /** Reads {@code logic.consumer.*}; the caller's {@code warnUnread("logic.")} reports typos. */
    public static ConsumerPolicy from(Settings s) {
        return from(s, "logic");
    }

    /** The same keys under {@code <role>.}: every role that runs the pipeline (logic node, bypass consumer). */
    public static ConsumerPolicy from(Settings s, String role) {
        return new ConsumerPolicy(
                s.duration(role + ".consumer.session-timeout", DEFAULT_SESSION_TIMEOUT),
                s.integer(role + ".consumer.max-attempts", DEFAULT_MAX_ATTEMPTS),
                s.duration(role + ".consumer.retry-pause", DEFAULT_RETRY_PAUSE),
                s.duration(role + ".consumer.backoff-initial", DEFAULT_BACKOFF_INITIAL),
                s.duration(role + ".consumer.backoff-max", DEFAULT_BACKOFF_MAX),
                s.duration(role + ".consumer.unassigned-grace", DEFAULT_UNASSIGNED_GRACE));
    }
}
