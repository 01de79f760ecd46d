package io.tern.broker;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.tern.broker.ack.AckPublisher;
import io.tern.broker.ack.BroadcastAckCounts;
import io.tern.broker.broadcast.Broadcaster;
import io.tern.broker.broadcast.RecentBroadcasts;
import io.tern.broker.config.BrokerConfig;
import io.tern.broker.delivery.Presence;
import io.tern.broker.delivery.PushCommandHandler;
import io.tern.broker.delivery.RouteRestorer;
import io.tern.broker.delivery.TagWriter;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.metrics.DeliveryMeter;
import io.tern.broker.net.Pipelines;
import io.tern.broker.region.RegionMover;
import io.tern.broker.region.ShutdownRedirects;
import io.tern.broker.registry.LivenessReporter;
import io.tern.broker.session.AdmissionLimiter;
import io.tern.broker.session.ConnectStatsTracker;
import io.tern.broker.session.SessionHomes;
import io.tern.broker.session.ConnectionLimiter;
import io.tern.broker.session.FailedHandshakeLimiter;
import io.tern.broker.session.DeviceServices;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.IdleSweeper;
import io.tern.broker.session.MovedSessions;
import io.tern.broker.session.Session;
import io.tern.broker.session.Sessions;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.link.LinkProof;
import io.tern.protocol.token.ConnectTokenSigner;
import io.tern.protocol.websocket.WebSocketFrameAdapters;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.metrics.Observability;
import io.tern.runtime.net.Transports;
import io.tern.runtime.tls.ServerTls;
import io.tern.runtime.tls.TlsConfig;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.QueuePolicy;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.redis.RedisOutage;
import io.tern.store.redis.RedisStore;
import io.tern.broker.route.RoutePublisher;
import io.micrometer.core.instrument.FunctionCounter;
import io.tern.store.region.RegionPolicyRepository;
import io.tern.store.region.RegionPolicyWatcher;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerSnapshot;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.route.RouteRepository;
import io.tern.store.route.SessionEvictions;
import io.tern.store.tag.TagRepository;
import io.tern.store.task.TaskRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * One broker: device listeners (TCP and WebSocket), the internal port for logic nodes' push
 * commands (single, batch, broadcast), the admin port (/metrics, /health), the registry heartbeat and the ack publisher.
 * {@link #start} returns once everything is bound and the broker is listed in the registry;
 * {@link #close} stops in reverse: deregister, stop accepting, DISCONNECT every device, close
 * connections, flush acks to Kafka, close Redis.
 */
public final class Broker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Broker.class);
    /**
     * The broker only reads and advances queued messages; these bounds matter to whoever
     * accepts messages (the logic nodes) and are given here only because the repository needs some.
     */
    private static final QueuePolicy READ_ONLY_QUEUE_POLICY =
            new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24));
    /**
     * A connect in a Redis outage reads its disk-KV queue again this much later: logic nodes route by the disk KV's
     * copy of tern.routes, which the backup writes within about a second of the connect.
     */
    private static final Duration OUTAGE_QUEUE_FOLLOW_UP = Duration.ofSeconds(3);
    /** Pending connections per listener; the kernel caps it at somaxconn (4096 here). */
    private static final int ACCEPT_BACKLOG = 1024;
    /**
     * Receive-buffer sizing for every accepted channel, Netty's default shared: left unset, each channel's config
     * makes its own allocator (stateless; the per-channel state is in its handle), ~32 bytes per idle connection.
     */
    private static final RecvByteBufAllocator RECEIVE_BUFFERS = new AdaptiveRecvByteBufAllocator();
    /** Per-device outbound buffer: beyond the high mark the device is not writable and pushes answer BACKPRESSURE. */
    private static final WriteBufferWaterMark DEVICE_WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);
    /** Per-logic-node reply buffer: beyond it the broker stops reading that node's commands. */
    private static final WriteBufferWaterMark INTERNAL_WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

    private final BrokerConfig config;
    private final LongSupplier clock;
    private final long startedAtMillis;
    private final Observability observability;
    private final List<Channel> listeners = new ArrayList<>(3);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile boolean bound;
    private RedisStore redis;
    private RedisOutage outage;
    private DiskKv diskKv;
    private RoutePublisher routeCopies;
    private AckPublisher acks;
    private Sessions sessions;
    private Disconnects disconnects;
    private Presence presence;
    private ConnectionLimiter limiter;
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private HttpServer admin;
    private LivenessReporter liveness;
    private SessionEvictions evictions;
    private RouteRestorer restorer;
    private RegionPolicyWatcher regionPolicy;
    private BrokerDirectory brokers;
    private RegionMover mover;
    private ConnectStatsTracker connectStats;
    private DeliveryMeter deliveries;
    private InetSocketAddress tcpAddress;
    private InetSocketAddress wsAddress;
    private InetSocketAddress internalAddress;

    private Broker(BrokerConfig config, LongSupplier clock) {
        this.config = config;
        this.clock = clock;
        this.startedAtMillis = clock.getAsLong();
        this.observability = new Observability("broker", config.id());
    }

    public static Broker start(BrokerConfig config) {
        return start(config, Clock.systemUTC());
    }

    /** @param clock wall clock for token expiry, CONNACK and ack timestamps (tests may pin it) */
    public static Broker start(BrokerConfig config, Clock clock) {
        Broker b = new Broker(config, clock::millis);
        try {
            b.doStart();
            return b;
        } catch (RuntimeException | Error e) {
            log.error("[broker {}] failed to start", config.id(), e);
            b.close();
            throw e;
        }
    }

    private void doStart() {
        String id = config.id();
        log.info("[broker {}] starting with {}", id, Settings.describe(config));
        if (config.devMode()) {
            log.warn("[broker {}] dev mode: the development connect-token secret is accepted; never run it where devices "
                    + "are real", id);
        }
        if (config.internalLink().usesDevSecret()) {
            log.warn("[broker {}] uses the development cluster secret; set broker.cluster-secret in production", id);
        }
        BrokerMetrics metrics = new BrokerMetrics(observability.registry());
        deliveries = metrics.deliveries();

        BrokerConfig.Recovery recovery = config.recovery();
        redis = RedisStore.connect(config.redisUri(), config.redisTimeout(), recovery.redisReconnectMax());
        BrokerConfig.StorageOutage aside = config.storageOutage();
        outage = RedisOutage.watch(redis, aside.redisOutageAfter(), RedisOutage.DEFAULT_PROBE_EVERY, clock,
                "broker-" + id);
        if (aside.hasDiskKv()) {
            diskKv = DiskKv.connect(aside.diskKvUri(), aside.diskKvTimeout());
        }
        routeCopies = RoutePublisher.start(id, config.kafkaBootstrap(), aside.routeQueueCapacity(),
                observability.registry());
        observability.storageMode(outage::isOutage, outage::outages);
        RouteRepository routes = new RouteRepository(redis);
        MessageRepository messages = new MessageRepository(redis, READ_ONLY_QUEUE_POLICY);
        TaskRepository tasks = new TaskRepository(redis, READ_ONLY_QUEUE_POLICY);
        BroadcastAckCounts ackCounts = new BroadcastAckCounts(id, config.ackCountCapacity(), config.ackCountWindow(),
                config.ackCountBuffer(), config.ackCountRecordMax(), System::nanoTime, clock);
        acks = AckPublisher.start(id, config.kafkaBootstrap(), config.ackLinger(), config.ackQueueCapacity(), ackCounts,
                config.ackCountInterval(), config.ackDelivery().deliveryTimeout(), config.ackDelivery().retryBackoff(),
                metrics);

        BrokerConfig.Regions regions = config.regions();
        SessionHomes homes = new SessionHomes(regions.maxHomes());
        homes.onNewHome(home -> metrics.regionSessions(home, () -> homes.sessions(home)));
        sessions = new Sessions(id, startedAtMillis, config.maxConnections(), homes);
        connectStats = new ConnectStatsTracker(regions.connectSamples(), regions.connectWindow(), System::nanoTime);
        AdmissionLimiter admission = new AdmissionLimiter(regions.admissionRate(), regions.admissionBurst(),
                regions.busyRetryHint(), System::nanoTime);
        disconnects = new Disconnects(metrics, config.shutdownDrain());
        evictions = new SessionEvictions(redis);
        presence = new Presence(id, routes, messages, new BroadcastLog(redis), tasks, config.pendingLimit(),
                config.catchupLimit(), metrics, clock, recovery, disconnects, evictions,
                new Presence.Aside(routeCopies::publish, outage::isOutage, diskKv, OUTAGE_QUEUE_FOLLOW_UP));
        // Before the listeners open: a device that moves away from here is closed from its first connection on.
        evictions.subscribe(id, new MovedSessions(id, sessions, disconnects, metrics)::evict);
        limiter = new ConnectionLimiter(config.maxConnections());
        // The policy and the live brokers are read off the event loops; the mover and CONNECT read the copies.
        Duration readTimeout = config.redisTimeout().multipliedBy(2).plusMillis(500);
        regionPolicy = new RegionPolicyWatcher(redis, new RegionPolicyRepository(redis), regions.policyPoll(),
                readTimeout, "broker " + id).start();
        brokers = new BrokerDirectory(new BrokerRegistry(redis), regions.registryRefresh(), readTimeout,
                Clock.systemUTC(), "broker " + id).start();
        mover = new RegionMover(id, config.region(), sessions, disconnects, regionPolicy::current,
                region -> tcpAddressesIn(brokers.snapshot(), region), regions.moveTick(), regions.redirectBatchMax(),
                System::nanoTime, new SplittableRandom());
        TagWriter tags = new TagWriter(id, new TagRepository(redis), metrics, config.maxTagUpdatesInFlight());
        DeviceServices device = new DeviceServices(id, sessions, presence, acks, tags,
                new ConnectTokenSigner(config.tokenSecret().getBytes(StandardCharsets.UTF_8)), disconnects, limiter,
                metrics, config.heartbeatSeconds(), config.handshakeTimeout(), clock,
                new FailedHandshakeLimiter(config.handshakeGuard().ratePerSecond(), config.handshakeGuard().burst(),
                        config.handshakeGuard().sources(), System::nanoTime),
                config.ackTracking().maxUnacked(), admission, connectStats, mover::regionFailedOver,
                config.broadcastAcks().delayMillis(), config.broadcastAcks().maxPerFrame());
        Broadcaster broadcaster = new Broadcaster(id, sessions.apps(), config.broadcastChunk(), config.broadcastQueue(),
                metrics, config.ackTracking().maxUnacked(), config.broadcastParking().perConnection(),
                config.broadcastParking().connections(), config.broadcastParking().retry());
        TlsConfig tls = config.tls();
        Pipelines pipelines = new Pipelines(device, new PushCommandHandler(id, sessions, disconnects, metrics,
                broadcaster, ackCounts, config.maxBroadcastsInFlight(), new RecentBroadcasts(config.broadcastDedupe())),
                config.maxFrameBody(),
                ServerTls.of(tls, false, "broker " + id + " device ports"),
                ServerTls.serverSpeaksFirst(tls, tls.ca() != null, "broker " + id + " internal port"),
                new LinkProof(config.internalLink().clusterSecret()), config.internalLink().authTimeout());
        metrics.gauge("tern.broker.connections", "Authenticated device connections", sessions::size);
        metrics.gauge("tern.broker.sockets", "Open device sockets, authenticated or not", limiter::open);
        FunctionCounter.builder("tern.broker.connects.admitted", connectStats, ConnectStatsTracker::admittedCount)
                .description("CONNECTs answered with CONNACK").register(observability.registry());
        metrics.gauge("tern.broker.connect.p99.seconds", "p99 of accept to CONNACK over broker.connect-window",
                () -> connectStats.p99Millis() / 1000.0);
        metrics.gauge("tern.broker.handshake.failure.sources", "Source addresses whose failed handshakes are counted",
                device.handshakes()::sources);

        bossGroup = Transports.group(1, "tern-broker-" + id + "-accept");
        workerGroup = Transports.group(config.effectiveIoThreads(), "tern-broker-" + id + "-io");
        new IdleSweeper(sessions.apps(), config.idleTimeout()).start(workerGroup);
        BrokerConfig.Listeners at = config.listeners();
        tcpAddress = bind(pipelines.tcp(), at.tcpBind(), config.tcpPort(), DEVICE_WATER_MARK, "tcp");
        wsAddress = bind(pipelines.webSocket(), at.wsBind(), config.wsPort(), DEVICE_WATER_MARK, "ws");
        internalAddress = bind(pipelines.internal(), at.internalBind(), config.internalPort(), INTERNAL_WATER_MARK,
                "internal");

        mover.start();
        observability.check("listeners", () -> bound);
        // In a Redis outage the broker still serves (connects, pushes, acks): /health stays 200, "storage" says outage.
        observability.check("region-policy", () -> regionPolicy.fresh() || outage.isOutage());
        admin = observability.addRoutes(HttpServer.builder("broker-" + id, observability.registry()).eventLoopGroup(bossGroup)
                        .limits(config.adminHttpLimits()))
                .start(new HttpEndpoint(at.adminBind(), config.adminPort()));
        bound = true;

        liveness = LivenessReporter.start(id, new BrokerRegistry(redis), this::info, config.livenessInterval(),
                config.livenessTtl(), clock, config.redisTimeout().plusSeconds(1));
        restorer = new RouteRestorer(id, sessions, presence, liveness::beatNow, recovery.restoreBatch(),
                recovery.restoreRate(), config.redisTimeout().multipliedBy(2), metrics);
        redis.onReconnect(restorer::redisReconnected);
        liveness.whenRecovered(restorer::heartbeatRecovered);
        // A hung Redis ends its outage without a reconnect: routes written aside meanwhile are restored then too.
        outage.onChange(inOutage -> {
            if (!inOutage) {
                restorer.heartbeatRecovered();
            }
        });
        log.info("[broker {}] up in region {}: tcp {}, ws {}, internal {}, admin {} ({})", id, config.region(),
                tcpAddress, wsAddress, internalAddress, admin.address(), Transports.epoll() ? "epoll" : "nio");
    }

    private InetSocketAddress bind(ChannelInitializer<Channel> init, String host, int port, WriteBufferWaterMark waterMark,
                                   String name) {
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(Transports.serverChannel())
                .option(ChannelOption.SO_BACKLOG, ACCEPT_BACKLOG)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_BUFFERS)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                .childHandler(init);
        ChannelFuture f = b.bind(host, port).syncUninterruptibly();
        listeners.add(f.channel());
        InetSocketAddress bound = (InetSocketAddress) f.channel().localAddress();
        log.debug("[broker {}] {} listening on {}", config.id(), name, bound);
        return bound;
    }

    /** What the registry says about this broker: advertised hosts with the bound ports, current load. */
    private BrokerInfo info() {
        String device = config.listeners().advertisedDeviceHost();
        String internal = config.listeners().advertisedInternalHost();
        return new BrokerInfo(config.id(), config.region(), device + ':' + tcpAddress.getPort(),
                (webSocketsNeedTls() ? "wss://" : "ws://") + device + ':' + wsAddress.getPort() + WebSocketFrameAdapters.PATH,
                internal + ':' + internalAddress.getPort(), sessions.size(), startedAtMillis, sessions.homes().snapshot(),
                connectStats.snapshot(config.regions().admissionRate()), deliveries.snapshot(config.capacity()));
    }

    /**
     * Device TCP addresses of the live brokers of {@code region} in the registry copy: a move's rate is
     * shared among the moving region's, and its redirects name the target region's.
     */
    static List<String> tcpAddressesIn(BrokerSnapshot snapshot, String region) {
        List<String> out = new ArrayList<>();
        for (BrokerInfo b : snapshot.brokers()) {
            if (b.region().equals(region)) {
                out.add(b.tcpAddress());
            }
        }
        return out;
    }

    /**
     * wss:// is advertised only when plain is refused; while plain is accepted (dev) ws:// keeps
     * plain clients working and a client configured for TLS upgrades it itself.
     */
    private boolean webSocketsNeedTls() {
        return config.tls().enabled() && !config.tls().plain();
    }

    public BrokerConfig config() {
        return config;
    }

    public String id() {
        return config.id();
    }

    public InetSocketAddress tcpAddress() {
        return tcpAddress;
    }

    public InetSocketAddress wsAddress() {
        return wsAddress;
    }

    public InetSocketAddress internalAddress() {
        return internalAddress;
    }

    public InetSocketAddress adminAddress() {
        return admin.address();
    }

    /** Authenticated device connections. */
    public int connectionCount() {
        return sessions.size();
    }

    /** This broker's meters and health checks (served on the admin port). */
    public Observability observability() {
        return observability;
    }

    /** Completes when {@link #close} has finished. */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            terminated.join();
            return;
        }
        String id = config.id();
        Duration drain = config.shutdownDrain();
        log.info("[broker {}] stopping", id);
        try {
            // 1. Out of the registry first: dispatchers stop sending devices here.
            if (liveness != null) {
                liveness.deregister(config.redisTimeout());
            }
            // 2. Stop accepting devices and logic nodes; CONNECTs on open sockets are refused.
            bound = false;
            if (mover != null) {
                mover.close(); // no more region redirects: every device gets SERVER_SHUTTING_DOWN below
            }
            if (sessions != null) {
                sessions.shutDown();
            }
            for (Channel l : listeners) {
                l.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
            }
            // 3. Send devices to the region's other brokers at a pace they admit, then tell the rest to
            //    re-dispatch, and give the REDIRECTs and DISCONNECTs a moment to leave.
            if (sessions != null) {
                disconnectAll(redirectToPeers(), drain);
            }
            // 4. Close every connection (their route deletes start now) and the admin port.
            if (admin != null) {
                admin.close();
            }
            if (workerGroup != null) {
                workerGroup.shutdownGracefully(0, drain.toMillis(), TimeUnit.MILLISECONDS).awaitUninterruptibly(drain.toMillis() + 1000);
            }
            if (bossGroup != null) {
                bossGroup.shutdownGracefully(0, drain.toMillis(), TimeUnit.MILLISECONDS).awaitUninterruptibly(drain.toMillis() + 1000);
            }
            if (presence != null) {
                presence.awaitDeletes(drain);
            }
            // 5. Acks received up to now, and the final counts of broadcasts' acks, go to Kafka.
            if (acks != null) {
                acks.close(drain);
            }
            if (routeCopies != null) {
                routeCopies.close(drain);
            }
            if (liveness != null) {
                liveness.close();
            }
            if (restorer != null) {
                restorer.close();
            }
            if (evictions != null) {
                evictions.close();
            }
            if (brokers != null) {
                brokers.close();
            }
            if (regionPolicy != null) {
                regionPolicy.close();
            }
            if (outage != null) {
                outage.close();
            }
            if (diskKv != null) {
                diskKv.close();
            }
            // 6. Redis last: route deletes and status updates above need it.
            if (redis != null) {
                redis.close();
            }
            observability.close();
            log.info("[broker {}] stopped", id);
        } finally {
            terminated.complete(null);
        }
    }

    /** @return the REDIRECTs' writes */
    private List<ChannelFuture> redirectToPeers() {
        BrokerConfig.ShutdownRedirect paced = config.shutdownRedirect();
        if (paced.max().isZero() || sessions.size() == 0) {
            return List.of();
        }
        List<String> peers = new ArrayList<>();
        for (BrokerInfo b : brokers.snapshot().brokers()) {
            if (b.region().equals(config.region()) && !b.id().equals(config.id())) {
                peers.add(b.tcpAddress());
            }
        }
        long t0 = System.nanoTime();
        int held = sessions.size();
        List<ChannelFuture> redirects = new ShutdownRedirects(paced.ratePerSecond(), paced.max(), disconnects,
                System::nanoTime, ShutdownRedirects::sleep, new SplittableRandom()).drain(sessions.all(), peers);
        log.info("[broker {}] redirected {} of {} devices to {} peer(s) of region {} in {} ms (at most {}/s)",
                config.id(), redirects.size(), held, peers.size(), config.region(), (System.nanoTime() - t0) / 1_000_000,
                paced.ratePerSecond());
        return redirects;
    }

    /** DISCONNECTs the devices not redirected, then waits up to {@code drain} for those and the REDIRECTs to leave. */
    private void disconnectAll(List<ChannelFuture> redirects, Duration drain) {
        List<ChannelFuture> writes = new ArrayList<>();
        for (Session s : sessions.all()) {
            ChannelFuture f = disconnects.send(s.channel(), ReasonCode.SERVER_SHUTTING_DOWN, "broker is stopping");
            if (f != null) {
                writes.add(f);
            }
        }
        int disconnected = writes.size();
        writes.addAll(redirects);
        long deadline = System.nanoTime() + drain.toNanos();
        for (ChannelFuture f : writes) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !f.awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
                break;
            }
        }
        if (disconnected > 0) {
            log.info("[broker {}] sent SERVER_SHUTTING_DOWN to {} devices", config.id(), disconnected);
        }
    }
}
