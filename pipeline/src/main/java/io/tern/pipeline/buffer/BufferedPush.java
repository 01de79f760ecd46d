package io.tern.pipeline.buffer;

import io.tern.protocol.frame.PayloadKind;

import java.util.Objects;

/**
 * A push accepted beyond the permit, as it waits in Kafka {@code tern.buffer} for a bypass consumer: everything
 * needed to deliver it later without the request. The msgId (or taskId) is assigned at intake and is what the
 * app was answered with, so draining it twice delivers it once (the store's accept is idempotent on it).
 *
 * @param kind            a single push, or the start of a group task (list, tag, broadcast)
 * @param msgId           single: the msgId the app was answered with; task: 0
 * @param regId           single: the device; task: null
 * @param payloadKind     single: notification or data; task: null (the task holds its body)
 * @param payload         single: the payload JSON; task: null
 * @param requestId       single: the app's idempotency key, or null
 * @param taskId          task: the task to start; single: 0
 * @param targetJson      task: its GroupTarget JSON; single: null
 * @param deliveries      deliveries this record will cost downstream (1 for a single push, the audience for a task):
 *                        what the drain acquires from the permit before handling it
 */
public record BufferedPush(Kind kind, String appId, long msgId, String regId, PayloadKind payloadKind, String payload,
                           long createdAtMillis, long expiresAtMillis, String requestId, String callbackUrl,
                           String callbackParam, long taskId, String targetJson, long deliveries) {
    public enum Kind { SINGLE, TASK }

    public BufferedPush {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(appId, "appId");
        if (kind == Kind.SINGLE && (msgId <= 0 || regId == null || payloadKind == null || payload == null)) {
            throw new IllegalArgumentException("a single push needs msgId, regId, payloadKind and payload");
        }
        if (kind == Kind.TASK && (taskId <= 0 || targetJson == null)) {
            throw new IllegalArgumentException("a task needs taskId and targetJson");
        }
        if (deliveries < 1) {
            throw new IllegalArgumentException("deliveries must be >= 1, got " + deliveries);
        }
    }

    /** The Kafka key: one device's pushes stay in order in one partition; a task by its id. */
    public String key() {
        return kind == Kind.SINGLE ? regId : Long.toString(taskId);
    }
}
