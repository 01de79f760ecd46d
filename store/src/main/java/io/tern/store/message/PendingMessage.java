package io.tern.store.message;

import io.tern.protocol.frame.PayloadKind;

/** A queued message still to deliver to its device. */
public record PendingMessage(long msgId, PayloadKind kind, String payload, long expiresAtMillis) {
}
