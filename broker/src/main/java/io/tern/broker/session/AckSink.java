package io.tern.broker.session;

import io.tern.store.topic.AckRecord;

/** Where device acks go; never blocks. */
public interface AckSink {
    /** @return false when the ack was dropped (queue full); the message is then redelivered later */
    boolean offer(AckRecord ack);
}
