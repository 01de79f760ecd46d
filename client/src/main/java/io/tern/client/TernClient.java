package io.tern.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.ScheduledFuture;
import io.tern.client.dispatch.DeviceCredentials;
import io.tern.client.dispatch.Dispatch;
import io.tern.client.dispatch.DispatchClient;
import io.tern.client.dispatch.DispatchException;
import io.tern.client.internal.Backoff;
import io.tern.client.internal.RecentIds;
import io.tern.client.net.BrokerAddress;
import io.tern.client.net.ClientPipelines;
import io.netty.handler.ssl.SslContext;
import io.tern.client.net.EventLoops;
import io.tern.client.net.HostResolver;
import io.tern.client.net.NextStep;
import io.tern.client.net.SessionEnd;
import io.tern.client.net.SessionEvents;
import io.tern.client.net.SessionHandler;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.frame.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A device's connection to Tern: registers the device once when it has no credentials yet (the
 * platform issues its regId and secret), asks the dispatcher for brokers and a token with a request
 * signed by the device secret, connects to the first broker that takes it, heartbeats, receives and
 * acknowledges pushes, drops duplicates and expired messages, and reconnects (next address, re-dispatch, backoff with full jitter) until
 * {@link #close()}.
 *
 * <pre>{@code
 * TernClient client = TernClient.builder()
 *         .dispatcher(URI.create("http://127.0.0.1:8081"))
 *         .appId("demo").clientKey("demo-client-key")      // registers on first start
 *         .credentialStore(myPersistentStore)               // keeps regId + secret across runs
 *         .listener(new PushListener() {
 *             public void onMessage(PushMessage m) { System.out.println(m.payload()); }
 *             public void onRegistered(String regId) { sendToMyAppServer(regId); }
 *         })
 *         .build();
 * client.start();
 * client.awaitConnected(Duration.ofSeconds(5));
 * ...
 * client.close();
 * }</pre>
 *
 * <p><b>Threading:</b> each client lives on one event loop picked from its group at build time;
 * all of its state changes, I/O and listener callbacks run there, so clients need no locks and
 * thousands can share a few loops. Public methods are thread-safe. {@link #awaitConnected} and
 * {@link #close()} wait, so never call them on an event loop thread: from a listener callback use
 * {@link #closeAsync()} (close() on the client's own loop only starts closing; awaitConnected()
 * there throws).
 */
public final class TernClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TernClient.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    /** How long a goodbye DISCONNECT may take to flush before the socket is closed anyway. */
    private static final long GOODBYE_MILLIS = 1000;
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(8 * 1024, 32 * 1024);
    /** SUBSCRIBE / UNSUBSCRIBE frames held while not connected; more is refused. */
    public static final int MAX_PENDING_TAG_CHANGES = 64;

    /** Where the client is in its life cycle. */
    public enum State {
        /** Built, not started. */
        NEW,
        /** Waiting for the dispatcher to register this device (it had no credentials). */
        REGISTERING,
        /** Waiting for the dispatcher's answer. */
        DISPATCHING,
        /** Opening a broker connection and waiting for CONNACK. */
        CONNECTING,
        /** CONNACK received; messages flow. */
        CONNECTED,
        /** Waiting out a backoff delay before re-dispatching or reconnecting. */
        BACKING_OFF,
        /** Closed by {@link #close()} or stopped because a newer session replaced this one. Final. */
        CLOSED
    }

    private final ClientOptions options;
    private final PushListener listener;
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final EventLoop loop;
    private final Class<? extends SocketChannel> channelType;
    private final DispatchClient dispatchClient;
    private final Clock clock;
    private final String clientKey;
    private final CredentialStore credentialStore;
    /** Null until registered (when built without credentials and none were saved). */
    private volatile DeviceCredentials credentials;
    private volatile String prefix;
    private final ClientStats stats = new ClientStats();
    private final RecentIds dedup;
    private final Backoff backoff;
    /** Jitter of a broker's retry hint; used on the event loop only. */
    private final SplittableRandom jitter;
    /** Broker connections' TLS, null for plain TCP. */
    private final SslContext tls;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    private volatile State state = State.NEW;
    private volatile String connectedBroker;
    /** Completed true on CONNACK, false on close; replaced by a fresh one when a session ends. */
    private volatile CompletableFuture<Boolean> connectedSignal = new CompletableFuture<>();
    /** Highest broadcast sequence received; sent in every CONNECT. Written on the event loop only. */
    private volatile long lastBroadcastSeq;
    /**
     * The lowest broadcast sequence whose ack a connection lost (held when it ended), 0 when none: the next CONNECT
     * asks from just before it, so those broadcasts come again and are acked. Cleared once a broadcast at or past
     * it arrives (from then the connection holding its ack reports a loss again). Written on the event loop only.
     */
    private volatile long lostAcksFromSeq;
    /** Tag changes waiting for a live session, in call order; guarded by itself (callers are any thread). */
    private final ArrayDeque<Frame> pendingTagChanges = new ArrayDeque<>();

    // Confined to the event loop.
    private boolean stopped;
    /** Bumped by every dispatch and connect attempt; answers for an older one are ignored. */
    private long generation;
    private Dispatch dispatch;
    private List<String> addresses = List.of();
    private int index;
    private Channel channel;
    private boolean sessionLive;
    private ScheduledFuture<?> retry;
    /** Broker clock minus ours, from the last CONNACK; used to judge token expiry. */
    private long serverSkewMillis;

    private TernClient(Builder b) {
        this.options = new ClientOptions(b.dispatcher, b.appId, b.transport, b.localAddress,
                b.connectTimeout, b.handshakeTimeout, b.dispatchTimeout, b.backoffInitial, b.backoffMax,
                b.dedupCapacity, b.maxFrameBody, b.tls, b.homeRegion);
        this.listener = Objects.requireNonNull(b.listener, "listener");
        this.clock = b.clock;
        if (b.group != null) {
            this.channelType = EventLoops.socketChannelFor(b.group);
            this.group = b.group;
            this.ownsGroup = false;
        } else {
            this.group = EventLoops.newGroup(1, "tern-client");
            this.channelType = EventLoops.socketChannelFor(group);
            this.ownsGroup = true;
        }
        this.loop = group.next();
        HttpClient http = b.httpClient != null ? b.httpClient
                : b.tls != null ? b.tls.httpClient() : DefaultHttp.CLIENT;
        this.dispatchClient = new DispatchClient(http, options.dispatcher(), options.dispatchTimeout())
                .withHomeRegion(options.homeRegion());
        this.clientKey = b.clientKey;
        this.credentialStore = b.credentialStore;
        this.credentials = b.credentials;
        this.prefix = prefixFor(credentials);
        this.dedup = new RecentIds(options.dedupCapacity());
        this.backoff = new Backoff(options.backoffInitial(), options.backoffMax(), new SplittableRandom());
        this.jitter = new SplittableRandom();
        this.lastBroadcastSeq = b.lastBroadcastSeq;
        this.tls = b.tls == null ? null : b.tls.nettyContext();
    }

    public static Builder builder() {
        return new Builder();
    }

    private String prefixFor(DeviceCredentials c) {
        return "[client " + options.appId() + "/" + (c == null ? "unregistered" : c.regId()) + "]";
    }

    /**
     * Starts dispatching and connecting in the background and returns at once.
     *
     * @throws IllegalStateException when already started or closed
     */
    public void start() {
        if (closing.get()) {
            throw new IllegalStateException("client is closed");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("client already started");
        }
        log.debug("{} starting with {}", prefix, options);
        execute(this::dispatchNow);
    }

    /**
     * Waits until the client is connected (CONNACK received), closed, or {@code timeout} passes.
     *
     * @return true when connected
     * @throws IllegalStateException when called on the client's event loop (it would block it)
     */
    public boolean awaitConnected(Duration timeout) {
        if (loop.inEventLoop()) {
            throw new IllegalStateException("awaitConnected would block the client's event loop");
        }
        State s = state;
        if (s == State.CONNECTED) {
            return true;
        }
        if (s == State.CLOSED) {
            return false;
        }
        try {
            return connectedSignal.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return state == State.CONNECTED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public State state() {
        return state;
    }

    /** The broker address (as listed by the dispatcher or a REDIRECT) of the live session, or null. */
    public String connectedBroker() {
        return connectedBroker;
    }

    public ClientStats stats() {
        return stats;
    }

    /**
     * This device's regId as the platform issued it (the one to hand to your app server), or null while
     * it is not registered yet; {@link PushListener#onRegistered} says when it is.
     */
    public String regId() {
        DeviceCredentials c = credentials;
        return c == null ? null : c.regId();
    }

    public ClientOptions options() {
        return options;
    }

    /**
     * The highest app broadcast sequence number this client has received (or was built with);
     * 0 when none. Sent in every CONNECT so the broker delivers only the broadcasts missed since.
     * An app that wants catch-up across restarts persists it and passes it to
     * {@link Builder#lastBroadcastSeq} next time. It already counts a broadcast whose
     * {@link PushListener#onMessage} is running (or that was dropped as a duplicate or expired),
     * so it can be persisted from there.
     */
    public long lastBroadcastSeq() {
        return lastBroadcastSeq;
    }

    /**
     * Adds this device to {@code tags} of its app (SUBSCRIBE). Sent at once when connected, else
     * held and sent after the next CONNACK. Idempotent on the broker side; a change in flight when
     * a connection drops may be lost, so apps subscribe again at start.
     *
     * @throws IllegalArgumentException when there are 0 or more than 64 tags or a tag is not
     *                                  {@code [A-Za-z0-9._:-]{1,64}}
     * @throws IllegalStateException    when {@value #MAX_PENDING_TAG_CHANGES} changes already wait
     *                                  for a connection, or the client is closed
     */
    public void subscribe(String... tags) {
        tagChange(new Frame.Subscribe(checkedTags(tags)));
    }

    /** Removes this device from {@code tags} (UNSUBSCRIBE); the same rules as {@link #subscribe}. */
    public void unsubscribe(String... tags) {
        tagChange(new Frame.Unsubscribe(checkedTags(tags)));
    }

    private static List<String> checkedTags(String[] tags) {
        List<String> list = Arrays.asList(tags.clone());
        String problem = Tags.problem(list);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return list;
    }

    private void tagChange(Frame frame) {
        if (closing.get()) {
            throw new IllegalStateException("client is closed");
        }
        synchronized (pendingTagChanges) {
            if (pendingTagChanges.size() >= MAX_PENDING_TAG_CHANGES) {
                throw new IllegalStateException(MAX_PENDING_TAG_CHANGES + " tag changes already wait for a connection");
            }
            pendingTagChanges.add(frame);
        }
        execute(this::sendTagChanges);
    }

    /** On the loop: writes the held tag changes if a session is live; otherwise they wait for CONNACK. */
    private void sendTagChanges() {
        Channel ch = channel;
        if (stopped || !sessionLive || ch == null || !ch.isActive()) {
            return;
        }
        boolean wrote = false;
        while (true) {
            Frame next;
            synchronized (pendingTagChanges) {
                next = pendingTagChanges.poll();
            }
            if (next == null) {
                break;
            }
            ch.write(next, ch.voidPromise());
            wrote = true;
        }
        if (wrote) {
            ch.flush();
        }
    }

    /**
     * Says goodbye to the broker (DISCONNECT OK) when connected, stops reconnecting and releases
     * the event loop group if the client created it. Waits up to 5 s for that, except when called
     * on the client's own event loop, where it only starts it. Idempotent.
     */
    @Override
    public void close() {
        CompletableFuture<Void> done = closeAsync();
        if (loop.inEventLoop()) {
            return;
        }
        try {
            done.get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("{} close did not finish within {}", prefix, CLOSE_WAIT);
        } catch (ExecutionException e) {
            log.warn("{} close failed", prefix, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Like {@link #close()} without waiting; the future completes once owned resources are released. */
    public CompletableFuture<Void> closeAsync() {
        if (closing.compareAndSet(false, true)) {
            execute(this::doClose);
        }
        return terminated.copy();
    }

    // ---- the state machine; everything below runs on the event loop ----

    private void dispatchNow() {
        if (stopped) {
            return;
        }
        DeviceCredentials device = credentials;
        if (device == null) {
            registerNow();
            return;
        }
        cancelRetry();
        state = State.DISPATCHING;
        stats.dispatches.incrementAndGet();
        long gen = ++generation;
        CompletableFuture<Dispatch> answer;
        try {
            // Signed on the broker's clock when a CONNACK told us the difference: the dispatcher checks ts.
            answer = dispatchClient.dispatch(options.appId(), device, clock.millis() + serverSkewMillis);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((d, err) -> execute(() -> onDispatched(gen, d, err)));
    }

    /** Once per installation: the platform issues this device its regId and secret. */
    private void registerNow() {
        cancelRetry();
        state = State.REGISTERING;
        stats.registrations.incrementAndGet();
        long gen = ++generation;
        CompletableFuture<DeviceCredentials> answer;
        try {
            answer = dispatchClient.register(options.appId(), clientKey);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((issued, err) -> {
            if (issued != null) {
                // Off the event loop (the HTTP client's executor): the app's store may do I/O.
                try {
                    credentialStore.save(issued);
                } catch (RuntimeException e) {
                    log.warn("{} saving the issued credentials failed; keeping them in memory", prefix, e);
                }
            }
            execute(() -> onRegistered(gen, issued, err));
        });
    }

    private void onRegistered(long gen, DeviceCredentials issued, Throwable err) {
        if (stopped || gen != generation) {
            return;
        }
        if (err != null) {
            Throwable cause = unwrap(err);
            stats.registrationFailures.incrementAndGet();
            if (cause instanceof DispatchException) {
                log.warn("{} registration refused: {}", prefix, cause.getMessage());
            } else {
                log.info("{} dispatcher {} unreachable for registration: {}", prefix, options.dispatcher(), cause.toString());
            }
            retryLater(this::dispatchNow, "registration failed");
            return;
        }
        credentials = issued;
        prefix = prefixFor(issued);
        log.info("{} registered", prefix);
        safely(() -> listener.onRegistered(issued.regId()));
        dispatchNow();
    }

    private void onDispatched(long gen, Dispatch d, Throwable err) {
        if (stopped || gen != generation) {
            return;
        }
        if (err != null) {
            Throwable cause = unwrap(err);
            stats.dispatchFailures.incrementAndGet();
            if (cause instanceof DispatchException) {
                log.warn("{} {}", prefix, cause.getMessage());
            } else {
                log.info("{} dispatcher {} unreachable: {}", prefix, options.dispatcher(), cause.toString());
            }
            retryLater(this::dispatchNow, "dispatch failed");
            return;
        }
        List<String> list = options.transport() == Transport.WEBSOCKET ? d.wsBrokers() : d.brokers();
        if (list.isEmpty()) {
            stats.dispatchFailures.incrementAndGet();
            log.warn("{} dispatcher listed no {} brokers", prefix, options.transport());
            retryLater(this::dispatchNow, "no brokers");
            return;
        }
        log.debug("{} dispatched to {}", prefix, list);
        dispatch = d;
        addresses = list;
        index = 0;
        connectCurrent();
    }

    private void connectCurrent() {
        if (stopped) {
            return;
        }
        if (index >= addresses.size()) {
            retryLater(this::dispatchNow, "no broker address left");
            return;
        }
        String raw = addresses.get(index);
        state = State.CONNECTING;
        stats.connectAttempts.incrementAndGet();
        long gen = ++generation;
        BrokerAddress address;
        try {
            address = BrokerAddress.parse(raw, options.transport() == Transport.WEBSOCKET);
        } catch (IllegalArgumentException e) {
            log.warn("{} skipping broker address: {}", prefix, e.getMessage());
            attemptFailed(gen, raw, e.getMessage());
            return;
        }
        HostResolver.resolve(address.host(), address.port()).whenComplete((remote, err) -> {
            if (loop.inEventLoop()) {
                open(gen, address, remote, err);
            } else {
                execute(() -> open(gen, address, remote, err));
            }
        });
    }

    private void open(long gen, BrokerAddress address, InetSocketAddress remote, Throwable err) {
        if (stopped || gen != generation) {
            return;
        }
        if (err != null) {
            attemptFailed(gen, address.raw(), "cannot resolve " + address.host() + ": " + unwrap(err));
            return;
        }
        // Offers cumulative broadcast acks: a broker that takes them says so in CONNACK, an older one ignores the offer.
        long since = lostAcksFromSeq > 0 ? Math.min(lastBroadcastSeq, lostAcksFromSeq - 1) : lastBroadcastSeq;
        Frame.Connect connect = new Frame.Connect(options.appId(), credentials.regId(), dispatch.token(), since, true);
        long handshakeMillis = options.handshakeTimeout().toMillis();
        Events events = new Events(gen, address.raw());
        Supplier<SessionHandler> session = () -> new SessionHandler(prefix, connect, address.webSocket(),
                handshakeMillis, dedup, clock, events);
        ChannelInitializer<Channel> init = address.webSocket()
                ? ClientPipelines.webSocket(address, options.maxFrameBody(), handshakeMillis, tls, session)
                : ClientPipelines.tcp(address, options.maxFrameBody(), tls, session);
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelType)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) options.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(init);
        InetAddress local = options.localAddress();
        ChannelFuture connected = local == null ? bootstrap.connect(remote)
                : bootstrap.connect(remote, new InetSocketAddress(local, 0));
        channel = connected.channel();
        connected.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                attemptFailed(gen, address.raw(), String.valueOf(f.cause()));
            }
        });
    }

    /** An attempt failed before its channel became active (or the address was unusable). */
    private void attemptFailed(long gen, String raw, String why) {
        if (stopped || gen != generation) {
            return;
        }
        stats.connectFailures.incrementAndGet();
        log.debug("{} cannot connect to {}: {}", prefix, raw, why);
        channel = null;
        nextAddress();
    }

    private void nextAddress() {
        index++;
        if (index < addresses.size()) {
            connectCurrent();
        } else {
            retryLater(this::dispatchNow, "no broker of " + addresses + " took the connection");
        }
    }

    /** After a lost session: the same broker first, unless the token has run out meanwhile. */
    private void reconnect() {
        long expiresAt = dispatch == null ? 0 : dispatch.expiresAtMillis();
        if (dispatch == null || expiresAt > 0 && expiresAt <= clock.millis() + serverSkewMillis) {
            dispatchNow();
        } else {
            connectCurrent();
        }
    }

    private void retryLater(Runnable action, String why) {
        if (stopped) {
            return;
        }
        cancelRetry();
        long delay = backoff.nextDelayMillis();
        state = State.BACKING_OFF;
        log.debug("{} {}; next try in {} ms", prefix, why, delay);
        retry = loop.schedule(() -> {
            retry = null;
            if (stopped) {
                return;
            }
            try {
                action.run();
            } catch (RuntimeException e) {
                log.warn("{} unexpected error; re-dispatching later", prefix, e);
                retryLater(this::dispatchNow, "unexpected error");
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    /**
     * The broker said when to come back: re-dispatch after that, plus up to a quarter more at random so
     * devices refused in the same instant do not return in it. The backoff is not advanced: the broker's
     * hint already says how long.
     */
    private void retryAfter(long hintMillis, String why) {
        if (stopped) {
            return;
        }
        cancelRetry();
        long delay = hintMillis + jitter.nextLong(hintMillis / 4 + 1);
        state = State.BACKING_OFF;
        log.debug("{} {}; re-dispatching in {} ms as the broker asked", prefix, why, delay);
        retry = loop.schedule(() -> {
            retry = null;
            if (!stopped) {
                dispatchNow();
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    private void cancelRetry() {
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
    }

    private void doClose() {
        if (stopped) {
            return; // already stopped (session replaced); release is under way
        }
        stopped = true;
        generation++;
        cancelRetry();
        boolean wasLive = sessionLive;
        sessionLive = false;
        Channel ch = channel;
        channel = null;
        connectedBroker = null;
        state = State.CLOSED;
        connectedSignal.complete(false);
        if (ch != null && ch.isActive() && wasLive) {
            ch.writeAndFlush(new Frame.Disconnect(ReasonCode.OK, "client closed"))
                    .addListener(ChannelFutureListener.CLOSE);
            ch.eventLoop().schedule(() -> ch.close(), GOODBYE_MILLIS, TimeUnit.MILLISECONDS);
        } else if (ch != null) {
            ch.close();
        }
        log.debug("{} closed; {}", prefix, stats);
        if (wasLive) {
            safely(() -> listener.onDisconnected(ReasonCode.OK, "client closed"));
        }
        if (ch != null) {
            ch.closeFuture().addListener(f -> release());
        } else {
            release();
        }
    }

    /** SESSION_REPLACED: a newer connection of this device owns the route; stop without a fight. */
    private void stopForGood() {
        closing.set(true);
        stopped = true;
        generation++;
        cancelRetry();
        channel = null;
        connectedBroker = null;
        state = State.CLOSED;
        connectedSignal.complete(false);
        release();
    }

    private void release() {
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).addListener(f -> terminated.complete(null));
        } else {
            terminated.complete(null);
        }
    }

    private void execute(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // The (shared) event loop group was shut down under us: nothing can run any more.
            log.debug("{} event loop is shut down; client is closed", prefix);
            closing.set(true);
            state = State.CLOSED;
            connectedBroker = null;
            connectedSignal.complete(false);
            terminated.complete(null);
        }
    }

    private void safely(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            log.warn("{} listener threw", prefix, e);
        }
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The session handler's reports for one attempt; stale once a newer attempt started. */
    private final class Events implements SessionEvents {
        private final long gen;
        private final String broker;

        Events(long gen, String broker) {
            this.gen = gen;
            this.broker = broker;
        }

        private boolean stale() {
            return stopped || gen != generation;
        }

        @Override
        public void connected(Channel ch, Frame.ConnAck ack) {
            if (stale()) {
                ch.close();
                return;
            }
            sessionLive = true;
            backoff.reset();
            serverSkewMillis = ack.serverTimeMillis() > 0 ? ack.serverTimeMillis() - clock.millis() : 0;
            stats.connects.incrementAndGet();
            connectedBroker = broker;
            state = State.CONNECTED;
            log.info("{} connected to {} (heartbeat {} s)", prefix, broker, ack.heartbeatSeconds());
            sendTagChanges();
            safely(() -> listener.onConnected(broker));
            connectedSignal.complete(true);
        }

        @Override
        public void message(Frame.Push push, long receivedAtNanos) {
            if (stale()) {
                return;
            }
            stats.messagesReceived.incrementAndGet();
            PushMessage m = new PushMessage(push.msgId(), push.kind(),
                    new String(push.payload(), StandardCharsets.UTF_8), push.expiresAtMillis(), receivedAtNanos);
            safely(() -> listener.onMessage(m));
        }

        @Override
        public void broadcastSeen(long broadcastSeq) {
            if (stale()) {
                return;
            }
            if (broadcastSeq > lastBroadcastSeq) {
                lastBroadcastSeq = broadcastSeq;
            }
            if (lostAcksFromSeq > 0 && broadcastSeq >= lostAcksFromSeq) {
                lostAcksFromSeq = 0;
            }
        }

        @Override
        public void broadcastAcksLost(long fromSeq) {
            if (lostAcksFromSeq == 0 || fromSeq < lostAcksFromSeq) {
                lostAcksFromSeq = fromSeq;
            }
        }

        @Override
        public void dropped(long msgId, Drop why) {
            if (why == Drop.DUPLICATE) {
                stats.duplicatesDropped.incrementAndGet();
            } else {
                stats.expiredDropped.incrementAndGet();
            }
            log.debug("{} dropped msgId {} ({})", prefix, msgId, why);
        }

        @Override
        public void ended(SessionEnd end) {
            if (stale()) {
                return;
            }
            channel = null;
            sessionLive = false;
            if (end.connected()) {
                connectedBroker = null;
                if (connectedSignal.isDone()) {
                    connectedSignal = new CompletableFuture<>();
                }
                if (end.next() != NextStep.STOP) {
                    stats.reconnects.incrementAndGet();
                }
            } else if (end.next() != NextStep.STOP) {
                stats.connectFailures.incrementAndGet();
            }
            log.debug("{} session with {} ended: {} {} -> {}", prefix, broker, end.reason(), end.detail(), end.next());
            switch (end.next()) {
                case STOP:
                    log.info("{} session replaced by a newer one; stopping", prefix);
                    stopForGood();
                    break;
                case REDISPATCH:
                    retryLater(TernClient.this::dispatchNow, "broker sent " + end.reason());
                    break;
                case REDIRECT: {
                    List<String> to = end.redirectTo();
                    retryLater(() -> {
                        addresses = to;
                        index = 0;
                        connectCurrent();
                    }, "redirected to " + to);
                    break;
                }
                case RECONNECT:
                    retryLater(TernClient.this::reconnect, "session lost");
                    break;
                case RETRY_LATER:
                    stats.busyWaits.incrementAndGet();
                    retryAfter(end.retryAfterMillis(), "broker is busy");
                    break;
                case NEXT_ADDRESS:
                default:
                    nextAddress();
                    break;
            }
            if (end.connected()) {
                safely(() -> listener.onDisconnected(end.reason(), end.detail()));
            }
        }
    }

    /** One JDK HTTP client for every client that was not given one: its selector thread is costly. */
    private static final class DefaultHttp {
        static final HttpClient CLIENT = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(ClientOptions.DEFAULT_CONNECT_TIMEOUT)
                .build();
    }

    /**
     * Builds a {@link TernClient}. Required: {@link #dispatcher}, {@link #appId}, {@link #listener}, and either
     * {@link #clientKey} (to register when the device has no credentials) or {@link #credentials} (or a
     * {@link #credentialStore} that holds some). Everything else has the default named in {@link ClientOptions}.
     */
    public static final class Builder {
        private URI dispatcher;
        private String appId;
        private String clientKey;
        private DeviceCredentials credentials;
        private CredentialStore credentialStore = CredentialStore.inMemory();
        private PushListener listener;
        private Transport transport = ClientOptions.DEFAULT_TRANSPORT;
        private EventLoopGroup group;
        private HttpClient httpClient;
        private InetAddress localAddress;
        private Duration connectTimeout = ClientOptions.DEFAULT_CONNECT_TIMEOUT;
        private Duration handshakeTimeout = ClientOptions.DEFAULT_HANDSHAKE_TIMEOUT;
        private Duration dispatchTimeout = ClientOptions.DEFAULT_DISPATCH_TIMEOUT;
        private Duration backoffInitial = ClientOptions.DEFAULT_BACKOFF_INITIAL;
        private Duration backoffMax = ClientOptions.DEFAULT_BACKOFF_MAX;
        private int dedupCapacity = ClientOptions.DEFAULT_DEDUP_CAPACITY;
        private int maxFrameBody = FrameHeader.DEFAULT_MAX_BODY;
        private Clock clock = Clock.systemUTC();
        private long lastBroadcastSeq;
        private ClientTls tls;
        private String homeRegion;

        private Builder() {
        }

        /** Base URI of the dispatcher, e.g. {@code http://127.0.0.1:8081}. Required. */
        public Builder dispatcher(URI dispatcher) {
            this.dispatcher = dispatcher;
            return this;
        }

        /** Required. */
        public Builder appId(String appId) {
            this.appId = appId;
            return this;
        }

        /**
         * The app's client key (it ships inside the app; it is not the server-side app secret). With it the
         * client registers the device when it has no credentials yet.
         */
        public Builder clientKey(String clientKey) {
            this.clientKey = clientKey;
            return this;
        }

        /** Credentials issued earlier (by a registration or provisioned by the platform): no registration. */
        public Builder credentials(DeviceCredentials credentials) {
            this.credentials = credentials;
            return this;
        }

        /**
         * Where the issued credentials are kept across runs. Default: {@link CredentialStore#inMemory()}, so a
         * new process registers a new device; an app supplies persistent storage.
         */
        public Builder credentialStore(CredentialStore store) {
            this.credentialStore = Objects.requireNonNull(store, "credentialStore");
            return this;
        }

        /** Required. Called on the event loop: must not block. */
        public Builder listener(PushListener listener) {
            this.listener = listener;
            return this;
        }

        /** TCP (default) or WEBSOCKET. */
        public Builder transport(Transport transport) {
            this.transport = transport;
            return this;
        }

        /**
         * A shared epoll or NIO event loop group; the client uses one of its loops and never shuts
         * it down. Default: the client creates a one-thread group (epoll when available) and shuts
         * it down on close.
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        /**
         * A shared JDK HTTP client for dispatch requests (used with sendAsync only). Default: one
         * HTTP/1.1 client shared by every TernClient in the JVM that was not given one.
         */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = httpClient;
            return this;
        }

        /** Source address of broker connections (e.g. 127.0.0.x to spread load-test ports). Default: any. */
        public Builder localAddress(InetAddress localAddress) {
            this.localAddress = localAddress;
            return this;
        }

        /** Delay ceilings of exponential backoff with full jitter. Default 200 ms, 30 s. */
        public Builder reconnectBackoff(Duration initial, Duration max) {
            this.backoffInitial = initial;
            this.backoffMax = max;
            return this;
        }

        /** How many recent msgIds are remembered for dropping duplicates. Default 4096. */
        public Builder dedupCapacity(int capacity) {
            this.dedupCapacity = capacity;
            return this;
        }

        /** Largest frame body accepted from a broker. Default {@code FrameHeader.DEFAULT_MAX_BODY} (8 KiB). */
        public Builder maxFrameBody(int maxFrameBody) {
            this.maxFrameBody = maxFrameBody;
            return this;
        }

        /** TCP connect timeout per broker address. Default 3 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        /** From TCP connect (including a WebSocket upgrade) to CONNACK. Default 10 s. */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = timeout;
            return this;
        }

        /** Whole dispatcher request. Default 5 s. */
        public Builder dispatchTimeout(Duration timeout) {
            this.dispatchTimeout = timeout;
            return this;
        }

        /**
         * The highest broadcast sequence number the app persisted from an earlier run
         * ({@link TernClient#lastBroadcastSeq()}), so the first CONNECT asks only for broadcasts
         * after it. Default 0: the broker then sends the broadcasts since this device's previous
         * connection.
         */
        public Builder lastBroadcastSeq(long lastBroadcastSeq) {
            this.lastBroadcastSeq = lastBroadcastSeq;
            return this;
        }

        /**
         * Verify the platform with these CAs: brokers over TLS / wss, the dispatcher over HTTPS
         * (its client is built with this trust unless {@link #httpClient} gave one). Default: none
         * (plain TCP, and wss only where a broker advertises wss:// using the JDK trust store).
         */
        public Builder tls(ClientTls tls) {
            this.tls = tls;
            return this;
        }

        /** Wall clock for message expiry and token expiry. Default {@link Clock#systemUTC()}. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The device's home region (e.g. {@code north}); default: the dispatcher's default region. */
        public Builder homeRegion(String region) {
            this.homeRegion = region;
            return this;
        }

        /**
         * @throws IllegalArgumentException when a required setting is missing or a value is out of range
         */
        public TernClient build() {
            if (listener == null) {
                throw new IllegalArgumentException("listener is required");
            }
            if (lastBroadcastSeq < 0) {
                throw new IllegalArgumentException("lastBroadcastSeq must be >= 0: " + lastBroadcastSeq);
            }
            if (credentials == null) {
                credentials = credentialStore.load();
            }
            if (credentials == null && (clientKey == null || clientKey.isBlank())) {
                throw new IllegalArgumentException("clientKey is required to register a device that has no credentials");
            }
            return new TernClient(this);
        }
    }
}
