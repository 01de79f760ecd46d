package io.tern.client;

import io.tern.protocol.frame.PayloadKind;

/**
 * One delivered message.
 *
 * @param msgId           the platform's unique, time-ordered message id
 * @param kind            NOTIFICATION ({@code {"title","body"}}) or DATA (app-defined JSON)
 * @param payload         the message JSON, decoded from UTF-8
 * @param expiresAtMillis expiry, epoch milliseconds; 0 when the message does not expire
 * @param receivedAtNanos {@link System#nanoTime()} when the frame was read, for latency measurements
 */
public record PushMessage(long msgId, PayloadKind kind, String payload, long expiresAtMillis, long receivedAtNanos) {
}
