package io.tern.store.message;

import io.tern.protocol.frame.PayloadKind;

/**
 * A single-push message to record; requestId is null when the app sent none, callbackUrl when
 * the app wants no receipt.
 */
public record NewMessage(long msgId, String appId, String regId, PayloadKind kind, String payload,
                         long createdAtMillis, long expiresAtMillis, String requestId, String callbackUrl,
                         String callbackParam) {
}
