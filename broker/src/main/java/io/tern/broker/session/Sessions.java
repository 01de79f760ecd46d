package io.tern.broker.session;

import io.netty.channel.Channel;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The local connection map: at most one session per device (appId, regId). A newer
 * connection replaces the older one; removal is conditional on the session, so closing the
 * replaced connection can never drop its successor.
 */
public final class Sessions {
    /** A registered session and the one it replaced, or null. */
    public record Opened(Session session, Session replaced) {
    }

    /** Distinct appIds kept as shared strings; beyond this, each session keeps its own copy. */
    static final int MAX_SHARED_APP_IDS = 100_000;

    private final String brokerId;
    private final Incarnation incarnation;
    private final AtomicLong sequence = new AtomicLong();
    private final ConcurrentHashMap<SessionKey, Session> byDevice;
    private final LocalApps apps = new LocalApps();
    // Every CONNECT decodes a fresh appId string; a broker serves few apps, so share one copy each.
    private final ConcurrentHashMap<String, String> appIds = new ConcurrentHashMap<>();
    private final SessionHomes homes;
    private volatile Consumer<Session> onRemoved = s -> { };
    private volatile boolean shuttingDown;

    public Sessions(String brokerId, long startedAtMillis, int expectedConnections) {
        this(brokerId, startedAtMillis, expectedConnections, new SessionHomes(DEFAULT_MAX_HOMES));
    }

    /** Home regions a broker counts apart when the caller does not say. */
    static final int DEFAULT_MAX_HOMES = 256;

    /** @param homes where sessions are counted by home region */
    public Sessions(String brokerId, long startedAtMillis, int expectedConnections, SessionHomes homes) {
        this.brokerId = brokerId;
        this.homes = homes;
        this.incarnation = Incarnation.of(brokerId, startedAtMillis);
        this.byDevice = new ConcurrentHashMap<>(Math.min(expectedConnections, 1 << 16));
    }

    public String brokerId() {
        return brokerId;
    }

    /**
     * Registers a new session for the device on {@code channel}, with a fresh epoch; call on its event loop.
     *
     * @param home the device's home region (the connect token's region claim)
     */
    public Opened open(String appId, String regId, String home, Channel channel, boolean webSocket) {
        SessionKey key = new SessionKey(shared(appId), regId);
        Session session = new Session(key, channel, webSocket, incarnation, sequence.incrementAndGet(),
                homes.opened(home));
        Session replaced = byDevice.put(key, session);
        apps.add(session);
        return new Opened(session, replaced);
    }

    private String shared(String appId) {
        String known = appIds.get(appId);
        if (known != null) {
            return known;
        }
        if (appIds.size() >= MAX_SHARED_APP_IDS) {
            return appId;
        }
        String prev = appIds.putIfAbsent(appId, appId);
        return prev != null ? prev : appId;
    }

    /**
     * Call when the session's connection closed, on its event loop: it leaves the per-app index
     * in any case, and the connection map if it is still the device's current session.
     *
     * @return true when {@code session} was the device's current one and is now removed
     */
    public boolean remove(Session session) {
        apps.remove(session);
        homes.closed(session.home());
        onRemoved.accept(session);
        return byDevice.remove(session.key(), session);
    }

    /** Called with every session as it leaves (after its home's count went down), on its event loop; must be quick. */
    public void onRemoved(Consumer<Session> listener) {
        this.onRemoved = listener;
    }

    /** Live sessions by home region. */
    public SessionHomes homes() {
        return homes;
    }

    /** The connections by app, per event loop (for broadcasts). */
    public LocalApps apps() {
        return apps;
    }

    /** @return the device's current session on this broker, or null */
    public Session find(String appId, String regId) {
        return byDevice.get(new SessionKey(appId, regId));
    }

    public int size() {
        return byDevice.size();
    }

    /** A weakly consistent view, for shutdown. */
    public Collection<Session> all() {
        return byDevice.values();
    }

    /** From now on CONNECTs are refused with SERVER_SHUTTING_DOWN. */
    public void shutDown() {
        shuttingDown = true;
    }

    public boolean shuttingDown() {
        return shuttingDown;
    }
}
