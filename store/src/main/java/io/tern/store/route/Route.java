package io.tern.store.route;

import java.util.Objects;

/**
 * Where a device is connected: a broker and the connection's epoch. The epoch is unique per
 * connection, so a broker closing an old connection cannot delete a newer route.
 */
public record Route(String brokerId, String epoch) {
    public Route {
        Objects.requireNonNull(brokerId, "brokerId");
        Objects.requireNonNull(epoch, "epoch");
    }

    public String encode() {
        return brokerId + '|' + epoch;
    }

    /** @return the route, or null for null or unreadable input */
    public static Route decode(String value) {
        if (value == null) {
            return null;
        }
        int bar = value.indexOf('|');
        return bar <= 0 ? null : new Route(value.substring(0, bar), value.substring(bar + 1));
    }
}
