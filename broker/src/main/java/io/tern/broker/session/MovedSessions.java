package io.tern.broker.session;

import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.route.SessionEvictions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a session whose device connected to another broker (that broker's route write replaced
 * this one's and it said so on this broker's eviction channel): SESSION_REPLACED, as for a newer
 * connection on this broker. Only if the session is still the one the replaced route named.
 */
public final class MovedSessions {
    private static final Logger log = LoggerFactory.getLogger(MovedSessions.class);

    private final String brokerId;
    private final Sessions sessions;
    private final Disconnects disconnects;
    private final BrokerMetrics metrics;

    public MovedSessions(String brokerId, Sessions sessions, Disconnects disconnects, BrokerMetrics metrics) {
        this.brokerId = brokerId;
        this.sessions = sessions;
        this.disconnects = disconnects;
        this.metrics = metrics;
    }

    /** Runs on a Lettuce thread: looks the session up and hands the close to its event loop. */
    public void evict(SessionEvictions.Eviction e) {
        metrics.recovery("eviction-received");
        Session s = sessions.find(e.appId(), e.regId());
        if (s == null || !s.route().epoch().equals(e.epoch())) {
            return; // already gone, or a newer connection of the device came back here
        }
        log.debug("[broker {}] {} moved to another broker; closing it", brokerId, s);
        s.channel().eventLoop().execute(() ->
                disconnects.send(s, ReasonCode.SESSION_REPLACED, "the device connected to another broker"));
    }
}
