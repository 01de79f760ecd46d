package io.tern.store.message;

/** A status a message should move forward to (SENT, OFFLINE or EXPIRED; never back, never DELIVERED). */
public record StatusMark(long msgId, MessageStatus status) {
}
