package io.tern.bypass.drain;

import java.util.concurrent.CompletableFuture;

/**
 * The rate the drain may deliver at: a record costing {@code deliveries} is handled only once they are granted.
 * Never blocks (the consumer thread keeps polling to stay in its group while it waits). The pipeline's
 * {@code PermitGate::acquire} is the one that runs.
 */
@FunctionalInterface
public interface DrainPermit {
    /** Completes once {@code deliveries} permits are granted. */
    CompletableFuture<Void> acquire(long deliveries);

    /** No limit (tests of the commit mechanics). */
    DrainPermit UNLIMITED = deliveries -> CompletableFuture.completedFuture(null);
}
