package io.tern.broker.session;

import io.tern.store.topic.AckRecord;

/** Where device acks go; never blocks. */
public interface AckSink {
    /**
     * @return false when there is no room (the queue to Kafka is full): the caller keeps the ack, stops reading
     *         the connection and offers it again once {@link #whenRoom} calls back; nothing is dropped
     */
    boolean offer(AckRecord ack);

    /**
     * Calls {@code resume} once (on any thread) when there is room again, possibly at once. {@code resume} must
     * only hand work to the connection's event loop.
     */
    default void whenRoom(Runnable resume) {
        resume.run();
    }

    /**
     * Counts the ack of {@code msgId} if it is a broadcast whose acks this broker counts instead
     * of publishing them per device; checked before {@link #offer}, without allocating.
     *
     * @param deviceHash the device's {@code DeviceHash}, from its {@link Session#deviceHash()}
     * @return true when counted: offer nothing for it
     */
    default boolean countBroadcast(long msgId, long deviceHash) {
        return false;
    }
}
