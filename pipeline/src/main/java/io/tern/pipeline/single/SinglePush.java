package io.tern.pipeline.single;

import io.tern.protocol.frame.PayloadKind;

/** A validated single-push request. requestId / callbackUrl are null when the app sent none. */
public record SinglePush(String regId, PayloadKind kind, String payloadJson, long ttlMillis, String requestId,
                         String callbackUrl, String callbackParam) {
}
