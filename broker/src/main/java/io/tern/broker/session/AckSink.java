package io.tern.broker.session;

import io.tern.store.topic.AckRecord;

/** Where device acks go; never blocks. */
public interface AckSink {
    /** @return false when the ack was dropped (queue full); the message is then redelivered later */
    boolean offer(AckRecord ack);

    /**
     * Counts the ack of {@code msgId} if it is a broadcast whose acks this broker counts instead
     * of publishing them per device; checked before {@link #offer}, without allocating.
     *
     * @return true when counted: offer nothing for it
     */
    default boolean countBroadcast(long msgId, String regId) {
        return false;
    }
}
