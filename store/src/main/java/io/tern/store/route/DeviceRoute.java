package io.tern.store.route;

/** A device as a group push sees it: whether the app knows it, and its route if connected. */
public record DeviceRoute(String regId, boolean known, Route route) {
}
