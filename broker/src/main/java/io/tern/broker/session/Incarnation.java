package io.tern.broker.session;

import io.tern.store.route.Route;

/**
 * This run of the broker: route epochs are {@code prefix + sequence}, where the prefix is the
 * start time, so an epoch is unique per connection across restarts of the same broker id.
 */
record Incarnation(String brokerId, String prefix) {
    static Incarnation of(String brokerId, long startedAtMillis) {
        return new Incarnation(brokerId, Long.toString(startedAtMillis, 36) + '.');
    }

    Route route(long sequence) {
        return new Route(brokerId, prefix + Long.toString(sequence, 36));
    }
}
