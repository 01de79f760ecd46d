package io.tern.store.message;

import io.tern.store.route.Route;

/**
 * @param created false when the requestId was seen before: msgId is the earlier message's
 * @param route   the device's route at acceptance, or null when it has none
 */
public record AcceptResult(boolean created, long msgId, Route route) {
    /** The target regId never connected (or was forgotten): nothing was recorded. */
    public static final AcceptResult UNKNOWN_DEVICE = new AcceptResult(false, 0L, null);

    public boolean unknownDevice() {
        return this == UNKNOWN_DEVICE;
    }
}
