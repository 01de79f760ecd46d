package io.tern.pipeline.single;

import io.tern.protocol.frame.PayloadKind;

/**
 * A validated single-push request. {@code payload} is its JSON in UTF-8, as it goes into the PUSH frame.
 * requestId / callbackUrl are null when the app sent none.
 */
public record SinglePush(String regId, PayloadKind kind, byte[] payload, long ttlMillis, String requestId,
                         String callbackUrl, String callbackParam) {
}
