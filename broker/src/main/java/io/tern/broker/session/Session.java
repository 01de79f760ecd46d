package io.tern.broker.session;

import io.netty.channel.Channel;
import io.tern.store.route.Route;
import io.tern.store.topic.DeviceHash;

import java.util.HashSet;
import java.util.Set;

/**
 * One authenticated device connection: the whole per-connection state the broker keeps beyond
 * Netty's own, held by the connection map and by the connection's {@link SessionHandler}. Kept
 * small on purpose (64 bytes plus the regId, with compressed oops: 8 of them for the device hash, 4 for the
 * reference to the unacked msgIds, 4 for the home region; the booleans, byte and slot fill what would be
 * alignment padding; appIds and home regions are shared): a broker holds tens of thousands of idle connections.
 * The route is rebuilt from the epoch sequence when needed rather than kept.
 */
public final class Session {
    private final SessionKey key;
    private final Channel channel;
    private final Incarnation incarnation;
    private final long epochSeq;
    // DeviceHash.of(regId), once per connection: every broadcast ack counted on this broker needs it (a SHA-256).
    private final long deviceHash;
    // The home region of the connect token; one shared instance per region (SessionHomes).
    private final String home;
    // Set once a DISCONNECT is on its way (possibly from another event loop): later frames are ignored.
    private volatile boolean closing;
    // Like slot, fits in padding: broadcasts give WebSocket connections one frame per binary message.
    private final boolean webSocket;
    // For IdleSweeper, loop-confined, also in padding: a frame came since the last sweep; sweeps without one.
    boolean readSinceSweep = true;
    byte quietSweeps;
    // Position in LocalApps' array for this app on this event loop; -1 when not indexed. Loop-confined.
    // Fits in the object's alignment padding: the index costs the session no extra bytes.
    int slot = -1;
    // msgIds written here and not yet acked. Kept when it empties, so that a connection written one broadcast a
    // second does not allocate one per delivery; the idle sweep drops it once it stayed empty and unwritten for a
    // sweep, so an idle connection holds none. Loop-confined.
    private Unacked unacked;
    // For the idle sweep, loop-confined, in padding: a PUSH was written since the last sweep.
    private boolean wroteSinceSweep;
    // msgIds written here from the disk KV's queue (a Redis outage) and not yet acked; null while none. Loop-confined.
    private Set<Long> fromDiskKv;

    Session(SessionKey key, Channel channel, boolean webSocket, Incarnation incarnation, long epochSeq, String home) {
        this.key = key;
        this.home = home;
        this.channel = channel;
        this.webSocket = webSocket;
        this.incarnation = incarnation;
        this.epochSeq = epochSeq;
        this.deviceHash = DeviceHash.of(key.regId());
    }

    /** @return the channel's session, or null before authentication (walks the pipeline: not for hot paths) */
    public static Session of(Channel channel) {
        SessionHandler h = channel.pipeline().get(SessionHandler.class);
        return h == null ? null : h.session();
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

    /** The device's hash in broadcast ack filters and count records ({@link DeviceHash#of} of its regId). */
    public long deviceHash() {
        return deviceHash;
    }

    /** The device's home region, from its connect token: where it belongs when its region is moved back. */
    public String home() {
        return home;
    }

    public Channel channel() {
        return channel;
    }

    /** The connection speaks Tern frames inside WebSocket binary messages, one frame per message. */
    public boolean webSocket() {
        return webSocket;
    }

    /** The route this connection writes: this broker and an epoch unique to this connection. */
    public Route route() {
        return incarnation.route(epochSeq);
    }

    /**
     * Records that a PUSH of {@code msgId} was written to this connection, so that its ACK counts.
     * Call on the connection's event loop.
     *
     * @param limit most msgIds kept outstanding per connection
     * @return true when the oldest outstanding msgId was forgotten to make room
     */
    public boolean wrote(long msgId, int limit) {
        wroteSinceSweep = true;
        if (unacked == null) {
            unacked = new Unacked(limit);
        }
        return unacked.add(msgId, limit);
    }

    /**
     * Takes {@code msgId} out of the outstanding ones. Call on the connection's event loop.
     *
     * @return true when this connection was written {@code msgId} and had not acked it yet: the ACK counts
     */
    public boolean acked(long msgId) {
        Unacked u = unacked;
        return u != null && u.remove(msgId);
    }

    /**
     * The idle sweep's turn (event loop only): drops the unacked msgIds' array when nothing is outstanding and
     * nothing was written since the previous sweep, so a connection that stopped getting pushes holds none.
     */
    void sweepUnacked() {
        Unacked u = unacked;
        if (u != null && !wroteSinceSweep && u.isEmpty()) {
            unacked = null;
        }
        wroteSinceSweep = false;
    }

    /** Records that {@code msgId} came from the disk KV's queue: its ACK removes it there. Event loop only. */
    public void wroteFromDiskKv(long msgId) {
        if (fromDiskKv == null) {
            fromDiskKv = new HashSet<>();
        }
        fromDiskKv.add(msgId);
    }

    /** Whether {@code msgId} was written here from the disk KV's queue and not acked yet. Event loop only. */
    public boolean writtenFromDiskKv(long msgId) {
        Set<Long> s = fromDiskKv;
        return s != null && s.contains(msgId);
    }

    /** @return true (once) when {@code msgId} came from the disk KV's queue. Event loop only. */
    public boolean ackedFromDiskKv(long msgId) {
        Set<Long> s = fromDiskKv;
        if (s == null || !s.remove(msgId)) {
            return false;
        }
        if (s.isEmpty()) {
            fromDiskKv = null;
        }
        return true;
    }

    /** Whether this connection holds an array of unacked msgIds now (tests: idle connections hold none). */
    boolean holdsUnacked() {
        return unacked != null;
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
        return "Session[app=" + key.appId() + ", reg=" + key.regId() + ", epoch=" + route().epoch() + ']';
    }
}
