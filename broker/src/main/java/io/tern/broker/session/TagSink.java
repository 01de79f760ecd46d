package io.tern.broker.session;

import java.util.List;

/** Where a device's SUBSCRIBE / UNSUBSCRIBE go; never blocks (the store write is asynchronous). */
public interface TagSink {
    void subscribe(Session session, List<String> tags);

    void unsubscribe(Session session, List<String> tags);
}
