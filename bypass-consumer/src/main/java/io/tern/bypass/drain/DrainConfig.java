package io.tern.bypass.drain;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.time.Duration;

/**
 * How a bypass consumer drains {@code tern.buffer}, keys {@code bypass.*}.
 *
 * @param maxInFlightPerPartition {@code bypass.max-in-flight-per-partition}, default 1000: records of one partition
 *                                read but not yet committed past (waiting for the permit, being handled, or done
 *                                behind an unfinished one); the partition is paused at this and resumed below it. A
 *                                poll may add up to {@code pollSize} more.
 * @param maxInFlight             {@code bypass.max-in-flight}, default 10000: the same over all partitions
 * @param pollSize                {@code bypass.poll-size}, default 500: records one poll returns at most
 * @param commitInterval          {@code bypass.commit-interval}, default 1s: how often completed offsets are committed
 *                                (always also on revoke and on close); what a kill -9 hands over twice at most
 * @param retryAttempts           {@code bypass.retry-attempts}, default 3: handlings of a record that fails (not
 *                                transiently) before it goes to {@code tern.buffer.dlq}; a transient failure (Redis
 *                                unreachable) is retried until it succeeds
 * @param retryBackoff            {@code bypass.retry-backoff}, default 200ms: wait before the first retry, doubled
 *                                per attempt ...
 * @param retryBackoffMax         {@code bypass.retry-backoff-max}, default 10s: ... up to this
 * @param sessionTimeout          {@code bypass.session-timeout}, default 10s: a consumer that stops heartbeating
 *                                (kill -9) loses its partitions to the others after this
 * @param unassignedGrace         {@code bypass.unassigned-grace}, default 30s: /health says DOWN when the consumer
 *                                has had no group assignment (or keeps failing) for longer than this
 */
public record DrainConfig(int maxInFlightPerPartition, int maxInFlight, int pollSize, Duration commitInterval,
                          int retryAttempts, Duration retryBackoff, Duration retryBackoffMax, Duration sessionTimeout,
                          Duration unassignedGrace) {

    public DrainConfig {
        ConfigException.require(maxInFlightPerPartition >= 1 && maxInFlightPerPartition <= 100_000,
                "bypass.max-in-flight-per-partition must be in [1, 100000]");
        ConfigException.require(maxInFlight >= maxInFlightPerPartition && maxInFlight <= 1_000_000,
                "bypass.max-in-flight must be in [bypass.max-in-flight-per-partition, 1000000]");
        ConfigException.require(pollSize >= 1 && pollSize <= 10_000, "bypass.poll-size must be in [1, 10000]");
        ConfigException.require(commitInterval.toMillis() >= 10 && commitInterval.toMinutes() <= 5,
                "bypass.commit-interval must be in [10ms, 5m]");
        ConfigException.require(retryAttempts >= 1 && retryAttempts <= 100, "bypass.retry-attempts must be in [1, 100]");
        ConfigException.require(retryBackoff.toMillis() >= 1 && retryBackoff.compareTo(retryBackoffMax) <= 0,
                "bypass.retry-backoff must be in [1ms, bypass.retry-backoff-max]");
        ConfigException.require(retryBackoffMax.toMinutes() <= 10, "bypass.retry-backoff-max must be <= 10m");
        // Kafka brokers accept session timeouts in [group.min.session.timeout.ms (6s), group.max (30m)] by default.
        ConfigException.require(sessionTimeout.toMillis() >= 1000 && sessionTimeout.toMinutes() <= 30,
                "bypass.session-timeout must be in [1s, 30m]");
        ConfigException.require(unassignedGrace.toMillis() >= 1, "bypass.unassigned-grace must be >= 1ms");
    }

    public static DrainConfig defaults() {
        return new DrainConfig(1000, 10_000, 500, Duration.ofSeconds(1), 3, Duration.ofMillis(200),
                Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    public static DrainConfig from(Settings s) {
        DrainConfig d = defaults();
        return new DrainConfig(
                s.integer("bypass.max-in-flight-per-partition", d.maxInFlightPerPartition()),
                s.integer("bypass.max-in-flight", d.maxInFlight()),
                s.integer("bypass.poll-size", d.pollSize()),
                s.duration("bypass.commit-interval", d.commitInterval()),
                s.integer("bypass.retry-attempts", d.retryAttempts()),
                s.duration("bypass.retry-backoff", d.retryBackoff()),
                s.duration("bypass.retry-backoff-max", d.retryBackoffMax()),
                s.duration("bypass.session-timeout", d.sessionTimeout()),
                s.duration("bypass.unassigned-grace", d.unassignedGrace()));
    }

    /** Wait before retry {@code attempt} (1-based): doubling, capped. */
    public long backoffMillis(int attempt) {
        long ms = retryBackoff.toMillis() << Math.min(20, Math.max(0, attempt - 1));
        return Math.min(ms, retryBackoffMax.toMillis());
    }
}
