package io.tern.bypass.drain;

/**
 * The rate the drain may deliver at: a record costing {@code deliveries} is handled only once they are taken.
 * Non-blocking (the consumer thread keeps polling to stay in its group while it waits).
 */
@FunctionalInterface
public interface DrainPermit {
    /** Takes {@code deliveries} permits if available now; false takes none. */
    boolean tryAcquire(long deliveries);

    /** No limit (tests of the commit mechanics). */
    DrainPermit UNLIMITED = deliveries -> true;
}
