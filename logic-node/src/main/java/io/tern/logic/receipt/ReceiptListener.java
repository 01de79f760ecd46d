package io.tern.logic.receipt;

import io.tern.store.receipt.AppliedAck;
import io.tern.store.topic.AckRecord;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Told of the acks the store counted as first receipts (e.g. to post them to the app's callback URL).
 * The acks' Kafka offsets are committed only once the returned future completes: it must complete
 * only when each receipt is handled durably (posted, or parked where a restart finds it). Must not block.
 */
@FunctionalInterface
public interface ReceiptListener {
    CompletableFuture<?> receipts(List<Receipt> receipts);

    /** One first receipt: the ack and what the store made of it. */
    record Receipt(AckRecord ack, AppliedAck applied) {
    }

    ReceiptListener NONE = receipts -> CompletableFuture.completedFuture(null);
}
