package io.tern.logic;

import io.micrometer.core.instrument.Gauge;
import io.tern.logic.apps.AppDirectory;
import io.tern.logic.apps.AppRegistry;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.logic.callback.CallbackDispatcher;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.logic.config.LogicConfig;
import io.tern.pipeline.group.BroadcastFanout;
import io.tern.pipeline.group.GroupFanout;
import io.tern.pipeline.group.GroupPushService;
import io.tern.pipeline.group.TagPushService;
import io.tern.logic.http.AdminApi;
import io.tern.logic.http.PushApi;
import io.tern.logic.http.PushErrors;
import io.tern.logic.http.TaskApi;
import io.tern.pipeline.buffer.BufferBacklog;
import io.tern.pipeline.buffer.BufferProducer;
import io.tern.pipeline.id.MsgIdGenerator;
import io.tern.pipeline.intake.PushIntake;
import io.tern.pipeline.permit.PermitGate;
import io.tern.pipeline.id.NodeIdLease;
import io.tern.pipeline.outage.AsidePush;
import io.tern.pipeline.outage.AsideReconciler;
import io.tern.pipeline.outage.StorageMode;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.redis.RedisOutage;
import io.tern.logic.limits.AppLimits;
import io.tern.pipeline.single.SinglePushService;
import io.tern.store.message.StatusMarks;
import io.tern.pipeline.redelivery.Redeliverer;
import io.tern.logic.receipt.AckConsumer;
import io.tern.logic.schedule.PeakFloors;
import io.tern.logic.schedule.RedissonClients;
import io.tern.logic.schedule.TaskScheduler;
import io.tern.protocol.link.LinkProof;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.tls.ServerTls;
import io.tern.runtime.tls.TlsContexts;
import io.tern.runtime.metrics.Observability;
import io.tern.store.auth.UsedSignatures;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.pipeline.group.OutageGroupPush;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.idempotency.IdempotencyRepository;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.DeliveryChecks;
import io.tern.store.message.QueuePolicy;
import io.tern.store.message.RedeliveryQueue;
import io.tern.store.receipt.AckRepository;
import io.tern.store.nodeid.NodeIdRepository;
import io.tern.store.redis.RedisStore;
import io.tern.store.redis.StoreFailures;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.route.RouteRepository;
import io.tern.store.tag.TagRepository;
import io.tern.store.task.TaskRepository;
import io.tern.store.throttle.ReplicaFloorRepository;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.function.LongSupplier;

/**
 * A logic node: the app-server API (single and group push, tasks, tags), routing to brokers, receipts, schedules; it
 * obeys the rate controller's permit and buffers pushes beyond it in Kafka for the bypass consumers.
 */
public final class LogicNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogicNode.class);

    /** What a push refused in outage mode tells the caller to wait: about one outage detection. */
    private static final long OUTAGE_RETRY_AFTER_SECONDS = 2;
    /** Aside records moved into Redis per round of reconciliation. */
    private static final int RECONCILE_BATCH = 200;

    private final LogicConfig config;
    private final Observability observability;
    private final RedisStore redis;
    /** The receipt consumer's connection: {@link #redis} itself unless {@code logic.receipt-connection}. */
    private final RedisStore receiptRedis;
    private final StorageMode storage;
    private final DiskKv diskKv; // null: none configured
    private final BrokerDirectory liveBrokers;
    private final BrokerLinks links;
    private final Redeliverer redelivery;
    private final AckConsumer acks;
    private final RedissonClient redisson;
    private final AppLimits limits;
    private final AppDirectory apps;
    private final CallbackDispatcher callbacks;
    private final CallbackUrlGuard callbackGuard;
    private final TagPushService tagPush;
    private final BroadcastFanout fanouts;
    private final TaskScheduler scheduler;
    private final NodeIdLease nodeId;
    private final PermitGate permit;
    private final BufferBacklog backlog;
    private final BufferProducer buffer;
    private final HttpServer http;

    private LogicNode(LogicConfig config) {
        this.config = config;
        LongSupplier clock = System::currentTimeMillis;
        observability = new Observability("logic-node", config.id());
        redis = RedisStore.connect(config.redisUri(), config.redisTimeout(), config.redisReconnectMax());
        receiptRedis = config.receiptConnection() ? redis.separateConnection() : redis;
        storage = StorageMode.follow(RedisOutage.watch(redis, config.redisOutageAfter(),
                RedisOutage.DEFAULT_PROBE_EVERY, clock, "logic-" + config.id()), config.redisOutageAfter(),
                observability.registry(), "logic " + config.id());
        diskKv = config.diskKvUri() == null ? null : DiskKv.connect(config.diskKvUri(), config.redisTimeout());
        QueuePolicy policy = new QueuePolicy(config.queueMax(), config.maxTtl(), config.statusRetention(),
                config.idempotencyWindow());
        MessageRepository messages = new MessageRepository(redis, policy,
                new DeliveryChecks(config.redelivery().checkDelay(), config.redelivery().maxDue()));
        BrokerRegistry registry = new BrokerRegistry(redis);
        liveBrokers = new BrokerDirectory(registry, config.registryRefresh(),
                config.redisTimeout().multipliedBy(2), Clock.systemUTC(), "logic " + config.id()).start();
        // Brokers whose keys expired during an outage re-register as soon as Redis is back: look again at once.
        redis.onReconnect(liveBrokers::refreshSoon);
        if (config.brokerLink().usesDevSecret()) {
            log.warn("[logic {}] uses the development cluster secret; set logic.cluster-secret in production", config.id());
        }
        links = new BrokerLinks(config.id(), new LinkProof(config.brokerLink().clusterSecret()),
                config.brokerLink().authTimeout(), config.brokerConnectTimeout(), config.brokerReplyTimeout(),
                config.broadcastReplyTimeout(), config.brokerMaxInFlight(),
                config.brokerLinksUseTls() ? TlsContexts.client(config.tls()) : null);
        Gauge.builder("tern.logic.broker.inflight", links, BrokerLinks::inFlight)
                .description("push commands awaiting a broker's reply").register(observability.registry());
        nodeId = NodeIdLease.acquire(new NodeIdRepository(redis), config.nodeId(), config.id(),
                config.recovery().nodeIdLeaseTtl(), clock, System::nanoTime, observability.registry());
        MsgIdGenerator ids = new MsgIdGenerator(nodeId, clock);
        StatusMarks marks = new StatusMarks(messages, config.statusBatchMax(), clock);
        redelivery = new Redeliverer(config.redelivery(), new RedeliveryQueue(redis), messages, new RouteRepository(redis),
                liveBrokers, registry, links, marks, clock, observability.registry(), config.id())
                .pauseWhile(() -> !storage.normal()).start();
        SinglePushService singlePush = new SinglePushService(messages, marks, liveBrokers, links, ids, redelivery, clock,
                observability.registry());
        AppRegistry appRegistry = new AppRegistry(redis, config.appsMax());
        apps = new AppDirectory(config.apps(), config.limits(), appRegistry, config.appsRefresh(),
                config.redisTimeout(), "logic " + config.id());
        AppAuthenticator auth = new AppAuthenticator(apps::credentials, config.authTokenSecret(), config.authTokenTtl(),
                config.authClockSkew(), config.authTokenCache(), clock);
        redisson = RedissonClients.connect(config.redisUri(), config.redisTimeout(), "logic-" + config.id(),
                config.redisReconnectMax());
        limits = new AppLimits(config.limits(), apps::limit, redis, redisson, Clock.systemUTC(), observability.registry());
        apps.onLimitsChanged(limits::limitsChanged).start();

        TaskRepository tasks = new TaskRepository(redis, policy, config.recentTasks());
        callbackGuard = new CallbackUrlGuard(config.callback().targets(), "logic-" + config.id());
        callbacks = new CallbackDispatcher(config.callback(), apps::secret, tasks, new CallbackOutbox(redis),
                callbackGuard, clock, observability.registry(), config.id());
        // Static membership under the node's id: a restarted node takes its partitions back at once.
        acks = new AckConsumer(config.kafkaBootstrap(), config.receiptGroup(), config.id(), config.receiptBatchMax(),
                config.receiptApplyMax(), config.consumer(),
                new AckRepository(receiptRedis, config.callback().outbox().lease(), config.callback().outbox().max(),
                        config.receiptCountedMax()),
                callbacks, clock, observability.registry(), config.id()).waitFor(storage::normal).start();

        GroupFanout fanout = new GroupFanout(new RouteRepository(redis), tasks, liveBrokers, links,
                config.redelivery().groupRetries(), config.redelivery().groupRetryDelay(), observability.registry());
        fanouts = new BroadcastFanout(tasks, liveBrokers, links, config.redelivery().groupRetries(),
                config.redelivery().groupRetryDelay(), config.recovery(), clock, observability.registry(), config.id());
        GroupPushService groups = new GroupPushService(tasks, new BroadcastLog(redis), fanout, liveBrokers, ids, clock,
                fanouts, config.ackFilter());
        TagRepository tags = new TagRepository(redis);
        tagPush = new TagPushService(tags, tasks, fanout, config.kafkaBootstrap(), config.jobGroup(), config.consumer(),
                config.tagResolvers(), config.tagQueue(), config.tagChunk(), config.recovery(), clock,
                observability.registry(), config.id());

        permit = PermitGate.start(redis, config.permit(), config.redisTimeout(), "logic " + config.id(), clock,
                observability.registry());
        redelivery.gatedBy(permit);
        backlog = new BufferBacklog(config.kafkaBootstrap(), config.buffer().backlogRefresh(), "logic " + config.id())
                .start(observability.registry());
        buffer = new BufferProducer(config.kafkaBootstrap(), config.buffer(), "logic " + config.id(),
                observability.registry());
        groups.copyBodiesTo(buffer::body);
        if (diskKv != null) {
            OutageGroupPush outageGroups = new OutageGroupPush(diskKv, tasks, new RouteRepository(redis),
                    new BroadcastLog(redis), liveBrokers, links, config.ackFilter(), BroadcastLog.DEFAULT_MAX_LENGTH,
                    clock, observability.registry());
            // Until reconciled, not only while Redis is silent: Redis' broadcast sequence is behind the outage's.
            groups.duringOutage(outageGroups, () -> !storage.normal());
            storage.reconcileWith(() -> outageGroups.reconcile().thenAccept(r -> { }));
            // A node restarted after an outage (or during one's reconciliation) applies what is still recorded.
            outageGroups.reconcile().whenComplete((r, err) -> {
                if (err != null) {
                    log.warn("[logic {}] outage group pushes recorded before this start not reconciled yet (the next "
                            + "outage's end does): {}", config.id(), err.toString());
                }
            });
        }
        PushIntake intake = new PushIntake(permit, buffer, backlog, config.buffer(), singlePush, messages, groups, tasks,
                tags, liveBrokers, clock, observability.registry())
                .divertInOutage(storage, new AsidePush(diskKv, liveBrokers, links, clock,
                        OUTAGE_RETRY_AFTER_SECONDS, config.queueMax(), observability.registry()));
        if (diskKv != null) {
            AsideReconciler reconciler = new AsideReconciler(diskKv, messages, new RouteRepository(redis), clock,
                    RECONCILE_BATCH,
                    observability.registry(), "logic " + config.id());
            storage.reconcileWith(reconciler);
            observability.fact("storage-unrecovered", reconciler::unrecovered);
        }
        // Scheduled pushes go through the permit too, when they fire; a large one raises the bypass floor ahead.
        PeakFloors peaks = new PeakFloors(config.schedule(), new ReplicaFloorRepository(redis),
                PeakFloors.estimator(tags, liveBrokers::snapshot), config.id());
        scheduler = new TaskScheduler(config.schedule(), redis, redisson, intake, peaks, observability.registry(),
                config.id());
        groups.connect(tagPush, scheduler);
        scheduler.start();

        // Outage mode is degraded but serving: /health stays UP (no orchestrator restart) while the disk KV carries it.
        observability.check("storage", () -> storage.normal() ? redis.isOpen()
                : diskKv != null && diskKv.isOpen());
        observability.fact("storage", storage::describe);
        observability.check("node-id", () -> nodeId.current() != null);
        // Brokers cannot be re-read from Redis in an outage: the last snapshot stands in.
        observability.check("broker-registry", () -> liveBrokers.fresh() || !storage.normal());
        observability.check("receipt-consumer", () -> acks.consuming() || !storage.normal());
        observability.check("job-consumer", tagPush::jobsConsuming);
        // Up on a directive read recently or openly on the fallback rate; the fact says which.
        observability.check("permit", permit::healthy);
        observability.fact("permit", permit::describe);
        observability.fact("buffer-backlog", backlog::total);
        PushApi api = new PushApi(auth, new UsedSignatures(redis), intake, messages, limits, config, callbackGuard,
                clock).answerInOutage(storage, diskKv);
        TaskApi taskApi = new TaskApi(auth, groups, intake, limits, tags,
                new IdempotencyRepository(redis, config.idempotencyWindow()), config.defaultTtl(), config.maxTtl(),
                config.schedule().maxAhead(), config.maxListBodyBytes(), callbackGuard, clock);
        HttpServer.Builder routes = taskApi.addRoutes(api.addRoutes(observability.addRoutes(
                HttpServer.builder("logic-node", observability.registry()))));
        if (config.sreToken() != null) {
            routes = new AdminApi(config.sreToken(), apps, appRegistry, limits, tasks, groups, clock).addRoutes(routes);
        }
        http = routes
                .maxBodyBytes(config.maxBodyBytes())
                .storeUnavailableWhen(StoreFailures::isUnavailable)
                .domainErrors(PushErrors::toApi)
                .limits(config.httpLimits())
                .tls(ServerTls.of(config.tls(), false, "logic " + config.id() + " push API"))
                .start(config.http());
    }

    public static LogicNode start(LogicConfig config) {
        log.info("[logic {}] starting with {}", config.id(), Settings.describe(config));
        LogicNode node = new LogicNode(config);
        log.info("[logic {}] API on http://{}", config.id(), node.address().getHostString() + ":" + node.address().getPort());
        return node;
    }

    public InetSocketAddress address() {
        return http.address();
    }

    /** The msgId node id this node holds now; -1 while it holds none (its API answers 503 to new pushes). */
    public int msgIdNodeId() {
        return nodeId.nodeId();
    }

    /** Where this node keeps its state now (Redis, or aside during a Redis outage). */
    public StorageMode storageMode() {
        return storage;
    }

    /** True once the ack consumer holds its partitions: receipts flow from then on. */
    public boolean receiptsReady() {
        return acks.assigned();
    }

    @Override
    public void close() {
        http.close();
        permit.close();
        backlog.close();
        buffer.close();
        scheduler.close();
        tagPush.close();
        fanouts.close();
        acks.close();
        callbacks.close();
        callbackGuard.close();
        limits.close();
        apps.close();
        RedissonClients.close(redisson);
        redelivery.close();
        links.close();
        liveBrokers.close();
        nodeId.close();
        storage.close();
        if (diskKv != null) {
            diskKv.close();
        }
        if (receiptRedis != redis) {
            receiptRedis.close();
        }
        redis.close();
        observability.close();
        log.info("[logic {}] stopped", config.id());
    }
}
