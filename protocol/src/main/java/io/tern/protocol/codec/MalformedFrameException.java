package io.tern.protocol.codec;

import io.tern.protocol.frame.ReasonCode;

/** A body that does not match its type's layout. Carries the reason code to send back. */
public final class MalformedFrameException extends RuntimeException {
    private final ReasonCode reason;

    public MalformedFrameException(ReasonCode reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public ReasonCode reason() {
        return reason;
    }
}
