package io.tern.store.topic;

/** Kafka topic names, in one place. */
public final class Topics {
    /** Device acks from brokers, keyed by regId; consumed by the receipt pipeline. */
    public static final String ACKS = "tern.acks";
    /** Chunks of a resolved tag push (≤ 1,000 regIds each), keyed by taskId; consumed by job consumers. */
    public static final String JOBS = "tern.jobs";

    private Topics() {
    }
}
