package io.tern.client;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of one client, readable from any thread. Written only by the client's event loop.
 * A load tester sums them over its clients.
 */
public final class ClientStats {
    final AtomicLong registrations = new AtomicLong();
    final AtomicLong registrationFailures = new AtomicLong();
    final AtomicLong dispatches = new AtomicLong();
    final AtomicLong dispatchFailures = new AtomicLong();
    final AtomicLong connectAttempts = new AtomicLong();
    final AtomicLong connectFailures = new AtomicLong();
    final AtomicLong connects = new AtomicLong();
    final AtomicLong reconnects = new AtomicLong();
    final AtomicLong messagesReceived = new AtomicLong();
    final AtomicLong duplicatesDropped = new AtomicLong();
    final AtomicLong expiredDropped = new AtomicLong();
    final AtomicLong busyWaits = new AtomicLong();

    ClientStats() {
    }

    /** Dispatcher requests sent (the first and every re-dispatch). */
    /** {@code POST /v1/register} requests made. */
    public long registrations() {
        return registrations.get();
    }

    /** Registrations that failed (error answer, unreachable); retried with backoff. */
    public long registrationFailures() {
        return registrationFailures.get();
    }

    public long dispatches() {
        return dispatches.get();
    }

    /** Dispatcher requests that failed (unreachable, error answer, no usable broker). */
    public long dispatchFailures() {
        return dispatchFailures.get();
    }

    /** Broker connections attempted. */
    public long connectAttempts() {
        return connectAttempts.get();
    }

    /** Attempts that did not reach CONNACK (refused, timed out, turned away). */
    public long connectFailures() {
        return connectFailures.get();
    }

    /** Sessions established (CONNACK received). */
    public long connects() {
        return connects.get();
    }

    /** Established sessions that were lost and made the client reconnect (close() and SESSION_REPLACED excluded). */
    public long reconnects() {
        return reconnects.get();
    }

    /** Messages handed to the listener. */
    public long messagesReceived() {
        return messagesReceived.get();
    }

    /** PUSHes dropped (and acknowledged) because their msgId was seen recently. */
    public long duplicatesDropped() {
        return duplicatesDropped.get();
    }

    /** PUSHes dropped (and acknowledged) because they had expired on arrival. */
    public long expiredDropped() {
        return expiredDropped.get();
    }

    /** Times a broker over its admission rate asked this client to come back later (SERVER_BUSY with a retry hint). */
    public long busyWaits() {
        return busyWaits.get();
    }

    @Override
    public String toString() {
        return "ClientStats[registrations=" + registrations + ", registrationFailures=" + registrationFailures
                + ", dispatches=" + dispatches + ", dispatchFailures=" + dispatchFailures
                + ", connectAttempts=" + connectAttempts + ", connectFailures=" + connectFailures
                + ", connects=" + connects + ", reconnects=" + reconnects
                + ", messagesReceived=" + messagesReceived + ", duplicatesDropped=" + duplicatesDropped
                + ", expiredDropped=" + expiredDropped + ", busyWaits=" + busyWaits + "]";
    }
}
