package io.tern.store.topic;

import java.util.List;

/** Kafka topic names, in one place. */
public final class Topics {
    /** Device acks from brokers, keyed by regId; consumed by the receipt pipeline. */
    public static final String ACKS = "tern.acks";
    /** Chunks of a resolved tag push (≤ 1,000 regIds each), keyed by taskId; consumed by job consumers. */
    public static final String JOBS = "tern.jobs";
    /**
     * The burst buffer: pushes accepted beyond the permit (BufferedPush JSON, keyed by regId for a single push so
     * one device's pushes keep their order, by taskId for a task); drained by the bypass consumers.
     */
    public static final String BUFFER = "tern.buffer";
    /** Group-push task bodies (payload tasks), keyed by taskId, for the disk-KV backup. */
    public static final String BODIES = "tern.bodies";
    /**
     * Device routes as brokers change them ({@link io.tern.store.route.RouteChange}, keyed by appId:regId), a
     * compacted topic: the copy of the routes that outlives a Redis outage, kept in the disk KV by the backup.
     */
    public static final String ROUTES = "tern.routes";
    /** The disk-KV backup's consumer group (bodies and routes). */
    public static final String DISK_KV_GROUP = "tern-disk-kv";
    /** The bypass consumers' group: its lag on {@link #BUFFER} is the buffer's backlog. */
    public static final String BYPASS_GROUP = "tern-bypass";
    /** Buffer records that cannot be parsed or failed every attempt. */
    public static final String BUFFER_DEAD_LETTER = deadLetter(BUFFER);
    /** Ack records the receipt pipeline failed to apply after every attempt (same key and value, plus headers). */
    public static final String ACKS_DEAD_LETTER = deadLetter(ACKS);
    /** Jobs the job consumers failed to fan out after every attempt. */
    public static final String JOBS_DEAD_LETTER = deadLetter(JOBS);
    /** Task bodies the disk-KV backup could not read (not a TaskBody). */
    public static final String BODIES_DEAD_LETTER = deadLetter(BODIES);
    /** Route changes the disk-KV backup could not read (not a RouteChange). */
    public static final String ROUTES_DEAD_LETTER = deadLetter(ROUTES);
    /** Every topic a cluster needs, for whoever creates them (dev runner, load test, an SRE's script). */
    public static final List<String> ALL = List.of(ACKS, JOBS, ACKS_DEAD_LETTER, JOBS_DEAD_LETTER, BUFFER,
            BUFFER_DEAD_LETTER, BODIES, ROUTES, BODIES_DEAD_LETTER, ROUTES_DEAD_LETTER);
    /** Topics whose old records are compacted away per key rather than deleted by age. */
    public static final List<String> COMPACTED = List.of(ROUTES);

    private Topics() {
    }

    /** Where records of {@code topic} go that failed every attempt: {@code <topic>.dlq}. */
    public static String deadLetter(String topic) {
        return topic + ".dlq";
    }
}
