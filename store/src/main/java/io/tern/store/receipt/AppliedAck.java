package io.tern.store.receipt;

import io.tern.store.callback.ParkedReceipt;

/**
 * What one device ack changed.
 *
 * @param target  what the acked id named
 * @param counted true the first time this device's copy is acknowledged (a receipt to report)
 * @param parked  the receipt parked in the callback outbox by the same call (its message or task has a
 *                callback URL), or null
 */
public record AppliedAck(Target target, boolean counted, ParkedReceipt parked) {
    public enum Target { UNKNOWN, MESSAGE, TASK }
}
