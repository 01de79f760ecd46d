package io.tern.store.message;

import io.tern.protocol.frame.PayloadKind;

/** A single-push message as recorded: its body, its target and its delivery state. */
public record StoredMessage(long msgId, String appId, String regId, PayloadKind kind, String payload,
                            long createdAtMillis, long expiresAtMillis, MessageStatus status,
                            long sentAtMillis, long deliveredAtMillis, String requestId) {

    /** The status a caller should see at {@code now}: undelivered past its TTL reads as expired. */
    public MessageStatus effectiveStatus(long nowMillis) {
        if (status != MessageStatus.DELIVERED && status != MessageStatus.EXPIRED && nowMillis >= expiresAtMillis) {
            return MessageStatus.EXPIRED;
        }
        return status;
    }
}
