package io.tern.broker.session;

/**
 * What happens in the store when a device comes and goes. Both calls run on the connection's
 * event loop and must not block: they start asynchronous work and return.
 */
public interface SessionLifecycle {
    /**
     * The device authenticated (CONNACK is written): record its route, then hand it what waited.
     *
     * @param lastBroadcastSeq from the device's CONNECT: the highest app broadcast it has seen, 0 if none kept
     */
    void opened(Session session, long lastBroadcastSeq);

    /**
     * The device acked {@code msgId}, a message written to this connection (its ack record is on its way to
     * Kafka): what was kept aside for it (the disk KV's queue during a Redis outage) can go.
     */
    default void acked(Session session, long msgId) {
    }

    /** The connection closed while it was the device's current one: forget its route. */
    void closed(Session session);
}
