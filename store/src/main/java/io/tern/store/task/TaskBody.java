package io.tern.store.task;

import io.tern.protocol.frame.PayloadKind;

/**
 * A group-push task as stored once for its lifetime: the message every target receives, and
 * where its receipts go. {@code callbackUrl} is null without a callback; {@code sendAt} is 0
 * for "now".
 */
public record TaskBody(long taskId, String appId, PayloadKind kind, String payload, long createdAtMillis,
                       long expiresAtMillis, String callbackUrl, String callbackParam, long sendAtMillis) {
}
