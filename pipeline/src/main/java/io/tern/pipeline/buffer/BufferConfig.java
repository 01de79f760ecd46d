package io.tern.pipeline.buffer;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.time.Duration;

/**
 * The burst buffer as intake writes it, keys {@code <role>.buffer.*}.
 *
 * @param sendTimeout    {@code send-timeout}, default 5s: how long Kafka may take to acknowledge (acks=all) a push
 *                       beyond the permit; later, the push is refused 503 {@code buffer_unavailable} and nothing is
 *                       recorded. Also the producer's delivery and metadata timeouts
 * @param bufferMemory   {@code buffer-memory}, default 32 MiB: bytes of records the producer holds unsent
 * @param maxInFlight    {@code max-in-flight}, default 5: unacknowledged produce requests per connection (1..5 keeps
 *                       the idempotent producer's order)
 * @param sendQueue      {@code send-queue}, default 10,000: pushes waiting for the producer's send thread; beyond
 *                       it 503 at once
 * @param maxBacklog     {@code max-backlog}, default 1,000,000: records the bypass consumers have not drained
 *                       (group {@code tern-bypass} lag on {@code tern.buffer}) beyond which pushes over the permit
 *                       are refused 429 {@code buffer_full}
 * @param backlogRefresh {@code backlog-refresh}, default 1s: how often the backlog is read from Kafka
 * @param retryAfter     {@code retry-after}, default 1s: the Retry-After of a 429 {@code buffer_full} or 503
 *                       {@code buffer_unavailable}
 */
public record BufferConfig(Duration sendTimeout, long bufferMemory, int maxInFlight, int sendQueue, long maxBacklog,
                           Duration backlogRefresh, Duration retryAfter) {
    public BufferConfig {
        ConfigException.require(sendTimeout != null && sendTimeout.toMillis() >= 1000 && sendTimeout.toSeconds() <= 120,
                "buffer.send-timeout must be in [1s, 120s]");
        ConfigException.require(bufferMemory >= 1 << 20 && bufferMemory <= 1L << 32,
                "buffer.buffer-memory must be in [1 MiB, 4 GiB]");
        ConfigException.require(maxInFlight >= 1 && maxInFlight <= 5, "buffer.max-in-flight must be in [1, 5]");
        ConfigException.require(sendQueue >= 1 && sendQueue <= 1_000_000, "buffer.send-queue must be in [1, 1000000]");
        ConfigException.require(maxBacklog >= 1, "buffer.max-backlog must be >= 1");
        ConfigException.require(backlogRefresh != null && backlogRefresh.toMillis() >= 100
                && backlogRefresh.toSeconds() <= 60, "buffer.backlog-refresh must be in [100ms, 60s]");
        ConfigException.require(retryAfter != null && retryAfter.toSeconds() >= 1 && retryAfter.toMinutes() <= 10,
                "buffer.retry-after must be in [1s, 10m]");
    }

    public static BufferConfig defaults() {
        return new BufferConfig(Duration.ofSeconds(5), 32L << 20, 5, 10_000, 1_000_000, Duration.ofSeconds(1),
                Duration.ofSeconds(1));
    }

    /** @param prefix the role's key prefix, e.g. {@code logic} reads {@code logic.buffer.*} */
    public static BufferConfig from(Settings s, String prefix) {
        BufferConfig d = defaults();
        String p = prefix + ".buffer.";
        return new BufferConfig(
                s.duration(p + "send-timeout", d.sendTimeout()),
                s.longValue(p + "buffer-memory", d.bufferMemory()),
                s.integer(p + "max-in-flight", d.maxInFlight()),
                s.integer(p + "send-queue", d.sendQueue()),
                s.longValue(p + "max-backlog", d.maxBacklog()),
                s.duration(p + "backlog-refresh", d.backlogRefresh()),
                s.duration(p + "retry-after", d.retryAfter()));
    }
}
