package io.tern.store.message;

/**
 * A status a message should move forward to (SENT, OFFLINE or EXPIRED; never back, never DELIVERED); the
 * message is named by its device and msgId, which is where it lives.
 */
public record StatusMark(String appId, String regId, long msgId, MessageStatus status) {
}
