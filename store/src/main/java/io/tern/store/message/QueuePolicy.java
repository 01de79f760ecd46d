package io.tern.store.message;

import java.time.Duration;

/**
 * Bounds of the per-device offline queue and of message records.
 *
 * @param queueMax           most queued messages per device; the oldest are evicted beyond it
 * @param queueTtl           a queue untouched this long is dropped (at least the longest message TTL)
 * @param retention          how long a message's status stays readable after it expires
 * @param idempotencyWindow  how long a requestId maps to its msgId
 */
public record QueuePolicy(int queueMax, Duration queueTtl, Duration retention, Duration idempotencyWindow) {
    public QueuePolicy {
        if (queueMax < 1) {
            throw new IllegalArgumentException("queueMax must be >= 1");
        }
    }
}
