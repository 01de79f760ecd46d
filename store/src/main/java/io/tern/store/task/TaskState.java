package io.tern.store.task;

import java.util.Locale;

/**
 * Lifecycle of a task. Who moves it on, and what ends a state that could otherwise last:
 * <pre>
 * CREATED   --push call (list / all)-----------------------> SENDING
 * CREATED   --push call beyond the permit (burst buffer)---> QUEUED
 * SCHEDULED --sendAt, beyond the permit (burst buffer)-----> QUEUED
 * QUEUED    --drained by a bypass consumer-----------------> SENDING | RESOLVING
 * CREATED   --tag push call--------------------------------> RESOLVING
 * SCHEDULED --sendAt (the scheduler, on one node)---------> SENDING | RESOLVING
 * RESOLVING --every job published-------------------------> SENDING
 * RESOLVING --owner's lease expired: a sweeper takes over--> RESOLVING (same cursor)
 * RESOLVING --takeovers used up, or task TTL passed-------> FAILED (reason)
 * SCHEDULED --the scheduler gave up after its attempts----> FAILED (reason)
 * any but RECALLED --recall-------------------------------> RECALLED (final)
 * </pre>
 * Transient: SCHEDULED (the scheduler's entry, claimed under a lease, attempts bounded) and
 * RESOLVING (an owner's lease in the resolving index, resumed by any node's sweeper, takeovers
 * bounded), QUEUED (its buffer record is drained by a bypass consumer, which commits it only when handled). CREATED waits for the app's push call; SENDING means copies are out and counters move
 * until the task's TTL; FAILED says why in the task's reason; RECALLED is final: no copy is
 * delivered after it.
 */
public enum TaskState {
    /** Stored; waiting for a push call (list / tag / all). */
    CREATED,
    /** Stored with a sendAt ahead; the scheduler fires its target then. */
    SCHEDULED,
    /** A push call beyond the permit: waiting in the burst buffer (Kafka) for a bypass consumer. */
    QUEUED,
    /** A tag expression being resolved into jobs, under an owner's lease. */
    RESOLVING,
    /** Copies sent or queued for every target. */
    SENDING,
    /** Could not be sent (see the task's reason). */
    FAILED,
    RECALLED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TaskState fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
