package io.tern.protocol.frame;

/** Result of a PushCommand on the broker. Codes are final. */
public enum PushOutcome {
    /** Written to the device's socket (not yet acknowledged by the device). */
    WRITTEN(0),
    /** The device has no connection on this broker. */
    NOT_CONNECTED(1),
    /** The device's connection is not writable (slow reader); the message stays queued. */
    BACKPRESSURE(2);

    private final int code;

    PushOutcome(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static PushOutcome fromCode(int code) {
        for (PushOutcome o : values()) {
            if (o.code == code) {
                return o;
            }
        }
        return null;
    }
}
