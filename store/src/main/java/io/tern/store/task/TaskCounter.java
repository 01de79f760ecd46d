package io.tern.store.task;

/** Per-task counters, stored as fields {@code n:<name>} of the task hash. */
public enum TaskCounter {
    /** Valid regIds targeted (or devices written to / queued by an all push). */
    TARGETED("targeted"),
    /** Written to a connected device's socket. */
    SENT("sent"),
    /** Acknowledged by the device. */
    DELIVERED("delivered"),
    /** Queued for a device that was not connected. */
    OFFLINE("offline"),
    /** Dropped from a device queue past the task's TTL. */
    EXPIRED("expired"),
    /** regIds that are not known devices of the app. */
    INVALID("invalid"),
    /** Receipts posted to the app's callback URL. */
    CALLBACK_SENT("callbackSent"),
    /** Receipts whose callback failed after every retry. */
    CALLBACK_FAILED("callbackFailed");

    private final String wireName;

    TaskCounter(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public String field() {
        return "n:" + wireName;
    }
}
