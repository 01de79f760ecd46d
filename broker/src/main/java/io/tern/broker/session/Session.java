package io.tern.broker.session;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.tern.store.route.Route;

/**
 * One authenticated device connection: the whole per-connection state the broker keeps beyond
 * Netty's own, held in the connection map and in one channel attribute. Kept small on purpose
 * (a few hundred bytes with its strings): brokers hold tens of thousands of idle connections.
 */
public final class Session {
    static final AttributeKey<Session> ATTR = AttributeKey.valueOf("tern.session");

    private final SessionKey key;
    private final Channel channel;
    private final Route route;
    // Set once a DISCONNECT is on its way (possibly from another event loop): later frames are ignored.
    private volatile boolean closing;

    Session(SessionKey key, Channel channel, Route route) {
        this.key = key;
        this.channel = channel;
        this.route = route;
    }

    /** @return the channel's session, or null before authentication */
    public static Session of(Channel channel) {
        // hasAttr first: attr() would allocate an empty attribute on unauthenticated channels.
        return channel.hasAttr(ATTR) ? channel.attr(ATTR).get() : null;
    }

    public SessionKey key() {
        return key;
    }

    public String appId() {
        return key.appId();
    }

    public String regId() {
        return key.regId();
    }

    public Channel channel() {
        return channel;
    }

    /** The route this connection wrote; its epoch is unique per connection. */
    public Route route() {
        return route;
    }

    public boolean closing() {
        return closing;
    }

    /** @return true for the first caller only */
    boolean markClosing() {
        if (closing) {
            return false;
        }
        closing = true;
        return true;
    }

    /** Still worth writing to: open, and not being closed by the broker. */
    public boolean usable() {
        return !closing && channel.isActive();
    }

    @Override
    public String toString() {
        return "Session[app=" + key.appId() + ", reg=" + key.regId() + ", epoch=" + route.epoch() + ']';
    }
}
