package io.tern.logic.receipt;

import io.tern.store.callback.ParkedReceipt;

import java.util.List;

/**
 * Told of the receipts the store parked in the callback outbox while applying a batch of acks (the same script
 * run: they are durable already), e.g. to post them at once. Must not block; may drop them, as any node takes
 * parked receipts once their lease ran out.
 */
@FunctionalInterface
public interface ReceiptListener {
    void parked(List<ParkedReceipt> receipts);
}
