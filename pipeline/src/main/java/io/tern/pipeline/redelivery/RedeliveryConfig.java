package io.tern.pipeline.redelivery;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.time.Duration;

/**
 * Redelivery of single pushes whose direct PUSH failed or was never made, keys {@code logic.redelivery.*}.
 *
 * @param checkDelay    {@code check-delay}, default 5s: an accepted push to a routed device not marked sent by then
 *                      is checked (covers a node that died between accept and PUSH); must outlast the reply timeout
 * @param retryDelay    {@code retry-delay}, default 300ms: after the direct PUSH failed, the first retry comes this soon
 * @param backoff       {@code backoff}, default 1s: wait after a failed redelivery, doubled per attempt ...
 * @param maxBackoff    {@code max-backoff}, default 30s: ... up to this
 * @param maxAttempts   {@code max-attempts}, default 8: redeliveries of one message before it is left queued for its
 *                      device's reconnect (counted as given up)
 * @param sweepInterval {@code sweep-interval}, default 200ms: how often a node looks for due checks
 * @param sweepBatch    {@code sweep-batch}, default 200: due checks claimed (and sent) per sweep at most
 * @param lease         {@code lease}, default 30s: a claimed check comes due again after this if its node died
 * @param maxDue        {@code max-due}, default 1,000,000: entries of the due set at most; beyond it new pushes are not
 *                      checked (they wait for a reconnect, as before redelivery existed); 0 turns checks off
 * @param groupRetries  {@code group-retries}, default 2: rounds in which a list/tag push resends to the current route of
 *                      the devices its batches missed, and times a BROADCAST whose link failed or timed out is sent to
 *                      its broker again (0: none)
 * @param groupRetryDelay {@code group-retry-delay}, default 500ms: wait before each such round
 */
public record RedeliveryConfig(Duration checkDelay, Duration retryDelay, Duration backoff, Duration maxBackoff,
                               int maxAttempts, Duration sweepInterval, int sweepBatch, Duration lease, int maxDue,
                               int groupRetries, Duration groupRetryDelay) {
    public RedeliveryConfig {
        ConfigException.require(checkDelay.toMillis() >= 100 && checkDelay.toMinutes() <= 60,
                "logic.redelivery.check-delay must be in [100ms, 1h]");
        ConfigException.require(retryDelay.toMillis() >= 0 && retryDelay.compareTo(checkDelay) <= 0,
                "logic.redelivery.retry-delay must be in [0, check-delay]");
        ConfigException.require(backoff.toMillis() >= 10 && backoff.compareTo(maxBackoff) <= 0,
                "logic.redelivery.backoff must be in [10ms, max-backoff]");
        ConfigException.require(maxBackoff.toHours() <= 1, "logic.redelivery.max-backoff must be <= 1h");
        ConfigException.require(maxAttempts >= 1 && maxAttempts <= 100, "logic.redelivery.max-attempts must be in [1, 100]");
        ConfigException.require(sweepInterval.toMillis() >= 10 && sweepInterval.toHours() <= 24,
                "logic.redelivery.sweep-interval must be in [10ms, 24h]");
        ConfigException.require(sweepBatch >= 1 && sweepBatch <= 10_000, "logic.redelivery.sweep-batch must be in [1, 10000]");
        ConfigException.require(lease.toMillis() >= 1000 && lease.toHours() <= 1, "logic.redelivery.lease must be in [1s, 1h]");
        ConfigException.require(maxDue >= 0 && maxDue <= 100_000_000, "logic.redelivery.max-due must be in [0, 100000000]");
        ConfigException.require(groupRetries >= 0 && groupRetries <= 10, "logic.redelivery.group-retries must be in [0, 10]");
        ConfigException.require(groupRetryDelay.toMillis() >= 0 && groupRetryDelay.toSeconds() <= 60,
                "logic.redelivery.group-retry-delay must be in [0, 60s]");
    }

    public static RedeliveryConfig defaults() {
        return new RedeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(1),
                Duration.ofSeconds(30), 8, Duration.ofMillis(200), 200, Duration.ofSeconds(30), 1_000_000, 2,
                Duration.ofMillis(500));
    }

    public static RedeliveryConfig from(Settings s) {
        return from(s, "logic");
    }

    /** Keys {@code <role>.redelivery.*}: every role that delivers single pushes (logic node, bypass consumer). */
    public static RedeliveryConfig from(Settings s, String role) {
        RedeliveryConfig d = defaults();
        return new RedeliveryConfig(
                s.duration(role + ".redelivery.check-delay", d.checkDelay()),
                s.duration(role + ".redelivery.retry-delay", d.retryDelay()),
                s.duration(role + ".redelivery.backoff", d.backoff()),
                s.duration(role + ".redelivery.max-backoff", d.maxBackoff()),
                s.integer(role + ".redelivery.max-attempts", d.maxAttempts()),
                s.duration(role + ".redelivery.sweep-interval", d.sweepInterval()),
                s.integer(role + ".redelivery.sweep-batch", d.sweepBatch()),
                s.duration(role + ".redelivery.lease", d.lease()),
                s.integer(role + ".redelivery.max-due", d.maxDue()),
                s.integer(role + ".redelivery.group-retries", d.groupRetries()),
                s.duration(role + ".redelivery.group-retry-delay", d.groupRetryDelay()));
    }

    /** Wait after failed redelivery {@code attempt} (1-based): backoff doubled per attempt, capped. */
    public long backoffMillis(int attempt) {
        long ms = backoff.toMillis() << Math.min(20, Math.max(0, attempt - 1));
        return Math.min(ms, maxBackoff.toMillis());
    }
}
