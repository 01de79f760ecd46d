package io.tern.client.net;

import io.netty.channel.Channel;
import io.tern.protocol.frame.Frame;

/**
 * What a {@link SessionHandler} reports to its owner. Every call runs on the channel's event
 * loop; implementations must not block.
 */
public interface SessionEvents {
    /** Why a PUSH was acknowledged but not delivered. */
    enum Drop { DUPLICATE, EXPIRED }

    /** CONNACK arrived; the session is live. */
    void connected(Channel channel, Frame.ConnAck connAck);

    /** A new, unexpired message. It is acknowledged right after this returns (or throws). */
    void message(Frame.Push push, long receivedAtNanos);

    /** A message that was acknowledged but not delivered. */
    void dropped(long msgId, Drop why);

    /**
     * A broadcast PUSH with this sequence number arrived (delivered or dropped), reported
     * just before its {@link #message} or {@link #dropped}, so that the message's receiver
     * already sees the sequence it carries.
     */
    default void broadcastSeen(long broadcastSeq) {
    }

    /**
     * The connection ended with broadcast acks still held (the broker ended it, or it broke): the broker never read
     * them, so those broadcasts are not counted as delivered. {@code fromSeq} is the lowest broadcast sequence among
     * them; the next CONNECT asks for the broadcasts from there again, so that they are acked on the next
     * connection (the listener does not see them twice: they are duplicates by msgId).
     */
    default void broadcastAcksLost(long fromSeq) {
    }

    /** The channel closed; called exactly once per session, after the close. */
    void ended(SessionEnd end);
}
