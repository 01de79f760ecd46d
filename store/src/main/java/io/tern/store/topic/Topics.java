package io.tern.store.topic;

import java.util.List;

/** Kafka topic names, in one place. */
public final class Topics {
    /** Device acks from brokers, keyed by regId; consumed by the receipt pipeline. */
    public static final String ACKS = "tern.acks";
    /** Chunks of a resolved tag push (≤ 1,000 regIds each), keyed by taskId; consumed by job consumers. */
    public static final String JOBS = "tern.jobs";
    /** Ack records the receipt pipeline failed to apply after every attempt (same key and value, plus headers). */
    public static final String ACKS_DEAD_LETTER = deadLetter(ACKS);
    /** Jobs the job consumers failed to fan out after every attempt. */
    public static final String JOBS_DEAD_LETTER = deadLetter(JOBS);
    /** Every topic a cluster needs, for whoever creates them (dev runner, load test, an SRE's script). */
    public static final List<String> ALL = List.of(ACKS, JOBS, ACKS_DEAD_LETTER, JOBS_DEAD_LETTER);

    private Topics() {
    }

    /** Where records of {@code topic} go that failed every attempt: {@code <topic>.dlq}. */
    public static String deadLetter(String topic) {
        return topic + ".dlq";
    }
}
