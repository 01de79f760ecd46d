package io.tern.store.topic;

/** Kafka topic names, in one place. */
public final class Topics {
    /** Device acks from brokers, keyed by regId; consumed by the receipt pipeline. */
    public static final String ACKS = "tern.acks";

    private Topics() {
    }
}
