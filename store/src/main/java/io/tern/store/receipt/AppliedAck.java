package io.tern.store.receipt;

/**
 * What one device ack changed.
 *
 * @param target  what the acked id named
 * @param counted true the first time this device's copy is acknowledged (a receipt to report)
 * @param callbackUrl where the app wants receipts, or null
 */
public record AppliedAck(Target target, boolean counted, String callbackUrl, String callbackParam) {
    public enum Target { UNKNOWN, MESSAGE, TASK }
}
