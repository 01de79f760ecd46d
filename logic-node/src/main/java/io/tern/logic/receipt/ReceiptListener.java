package io.tern.logic.receipt;

import io.tern.store.receipt.AppliedAck;
import io.tern.store.topic.AckRecord;

/**
 * Told of every ack the store counted as a first receipt (e.g. to post it to the app's callback
 * URL). Runs on the ack consumer's thread: implementations hand off to bounded queues and return.
 */
@FunctionalInterface
public interface ReceiptListener {
    void receipt(AckRecord ack, AppliedAck applied);

    ReceiptListener NONE = (ack, applied) -> {
    };
}
