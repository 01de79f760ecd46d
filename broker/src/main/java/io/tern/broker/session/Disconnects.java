package io.tern.broker.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Ends a connection the protocol's way: DISCONNECT with a reason, then close. Thread-safe: a
 * SESSION_REPLACED is sent from the new connection's event loop to the old one's channel.
 */
public final class Disconnects {
    // Reason messages are informational; keep them well inside the protocol's 2048-byte string limit.
    private static final int MAX_DETAIL_CHARS = 200;

    private final BrokerMetrics metrics;
    private final long forceCloseMillis;

    /** @param forceCloseAfter a peer that does not take the DISCONNECT within this is closed anyway */
    public Disconnects(BrokerMetrics metrics, Duration forceCloseAfter) {
        this.metrics = metrics;
        this.forceCloseMillis = Math.max(1, forceCloseAfter.toMillis());
    }

    /**
     * Disconnects an authenticated device; only the first call per session does anything.
     *
     * @return the write's future, or null when nothing was sent
     */
    public ChannelFuture send(Session session, ReasonCode reason, String detail) {
        return session.markClosing() ? write(session.channel(), reason, detail) : null;
    }

    /**
     * Writes DISCONNECT and closes once it is written (or failed), on any channel (device before
     * or after authentication, or internal). Stops reading at once.
     *
     * @return the write's future, or null when nothing was sent
     */
    public ChannelFuture send(Channel channel, ReasonCode reason, String detail) {
        Session session = Session.of(channel);
        return session != null ? send(session, reason, detail) : write(channel, reason, detail);
    }

    /**
     * Sends an authenticated device elsewhere: REDIRECT with {@code addresses} (none: ask the
     * dispatcher again), then close; only the first ending of a session does anything.
     *
     * @return the write's future, or null when nothing was sent
     */
    public ChannelFuture redirect(Session session, ReasonCode reason, List<String> addresses) {
        if (!session.markClosing() || !session.channel().isActive()) {
            return null;
        }
        metrics.redirect(reason);
        return writeAndClose(session.channel(), new Frame.Redirect(reason, addresses));
    }

    private ChannelFuture write(Channel channel, ReasonCode reason, String detail) {
        if (!channel.isActive()) {
            return null;
        }
        metrics.disconnect(reason);
        String message = detail == null ? "" : detail.length() > MAX_DETAIL_CHARS ? detail.substring(0, MAX_DETAIL_CHARS) : detail;
        return writeAndClose(channel, new Frame.Disconnect(reason, message));
    }

    private ChannelFuture writeAndClose(Channel channel, Frame frame) {
        channel.config().setAutoRead(false);
        ChannelFuture written = channel.writeAndFlush(frame);
        written.addListener(ChannelFutureListener.CLOSE);
        if (!written.isDone()) {
            // A peer that stopped reading would otherwise keep the socket until its buffer drains.
            try {
                channel.eventLoop().schedule(() -> {
                    channel.close();
                }, forceCloseMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                channel.close(); // the event loop is already stopping
            }
        }
        return written;
    }
}
