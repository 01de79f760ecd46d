package io.tern.bypass;

import io.micrometer.core.instrument.Gauge;
import io.tern.bypass.config.BypassConfig;
import io.tern.bypass.drain.DrainConsumer;
import io.tern.bypass.drain.PipelineHandler;
import io.tern.pipeline.group.BroadcastFanout;
import io.tern.pipeline.group.GroupFanout;
import io.tern.pipeline.group.GroupPushService;
import io.tern.pipeline.group.PushSchedule;
import io.tern.pipeline.group.TagPushService;
import io.tern.pipeline.id.MsgIdGenerator;
import io.tern.pipeline.id.NodeIdLease;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.pipeline.permit.PermitGate;
import io.tern.pipeline.redelivery.Redeliverer;
import io.tern.pipeline.single.SinglePushService;
import io.tern.store.message.StatusMarks;
import io.tern.protocol.link.LinkProof;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.main.StartedResources;
import io.tern.runtime.metrics.Observability;
import io.tern.runtime.tls.ServerTls;
import io.tern.runtime.tls.TlsContexts;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.DeliveryChecks;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.QueuePolicy;
import io.tern.store.message.RedeliveryQueue;
import io.tern.store.nodeid.NodeIdRepository;
import io.tern.store.redis.RedisOutage;
import io.tern.store.redis.RedisStore;
import io.tern.store.redis.StoreFailures;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.route.RouteRepository;
import io.tern.store.tag.TagRepository;
import io.tern.store.task.TaskRepository;
import io.tern.store.topic.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * A bypass consumer: drains the burst buffer ({@link Topics#BUFFER}, group {@link Topics#BYPASS_GROUP}, any number
 * of instances) at its share of the global permit through the same pipeline as the logic node's direct path, and
 * serves {@code /metrics} and {@code /health} (redis, kafka consuming, permit) on its admin port.
 */
public final class BypassConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BypassConsumer.class);

    private final BypassConfig config;
    private final HttpServer http;
    private final DrainConsumer drain;
    private final StartedResources resources;

    private BypassConsumer(BypassConfig config, HttpServer http, DrainConsumer drain, StartedResources resources) {
        this.config = config;
        this.http = http;
        this.drain = drain;
        this.resources = resources;
    }

    public static BypassConsumer start(BypassConfig config) {
        String owner = "bypass " + config.id();
        log.info("[{}] starting with {}", owner, Settings.describe(config));
        StartedResources started = new StartedResources(owner);
        try {
            LongSupplier clock = System::currentTimeMillis;
            Observability obs = started.add(new Observability("bypass-consumer", config.id()));
            var registry = obs.registry();
            RedisStore redis = started.add(RedisStore.connect(config.redisUri(), config.redisTimeout(),
                    config.redisReconnectMax()));
            QueuePolicy policy = new QueuePolicy(config.queueMax(), config.maxTtl(), config.statusRetention(),
                    config.idempotencyWindow());
            MessageRepository messages = new MessageRepository(redis, policy,
                    new DeliveryChecks(config.redelivery().checkDelay(), config.redelivery().maxDue()));
            BrokerRegistry brokerRegistry = new BrokerRegistry(redis);
            BrokerDirectory brokers = started.add(new BrokerDirectory(brokerRegistry, config.registryRefresh(),
                    config.redisTimeout().multipliedBy(2), Clock.systemUTC(), owner)).start();
            redis.onReconnect(brokers::refreshSoon);
            if (config.brokerLink().usesDevSecret()) {
                log.warn("[{}] uses the development cluster secret; set bypass.cluster-secret in production", owner);
            }
            BrokerLinks links = started.add(new BrokerLinks("bypass-" + config.id(),
                    new LinkProof(config.brokerLink().clusterSecret()), config.brokerLink().authTimeout(),
                    config.brokerConnectTimeout(), config.brokerReplyTimeout(), config.broadcastReplyTimeout(),
                    config.brokerMaxInFlight(), config.brokerLinksUseTls() ? TlsContexts.client(config.tls()) : null));
            NodeIdLease nodeId = started.add(NodeIdLease.acquire(new NodeIdRepository(redis), config.nodeId(),
                    "bypass-" + config.id(), config.recovery().nodeIdLeaseTtl(), clock, System::nanoTime, registry));
            MsgIdGenerator ids = new MsgIdGenerator(nodeId, clock);
            StatusMarks marks = new StatusMarks(messages, config.statusBatchMax(), clock);
            Redeliverer redelivery = started.add(new Redeliverer(config.redelivery(), new RedeliveryQueue(redis),
                    messages, new RouteRepository(redis), brokers, brokerRegistry, links, marks, clock, registry,
                    "bypass-" + config.id())).start();
            SinglePushService singles = new SinglePushService(messages, marks, brokers, links, ids, redelivery, clock,
                    registry);

            TaskRepository tasks = new TaskRepository(redis, policy);
            GroupFanout fanout = new GroupFanout(new RouteRepository(redis), tasks, brokers, links,
                    config.redelivery().groupRetries(), config.redelivery().groupRetryDelay(), registry);
            BroadcastFanout fanouts = started.add(new BroadcastFanout(tasks, brokers, links,
                    config.redelivery().groupRetries(), config.redelivery().groupRetryDelay(), config.recovery(), clock,
                    registry, "bypass-" + config.id()));
            GroupPushService groups = new GroupPushService(tasks, new BroadcastLog(redis), fanout, brokers, ids, clock,
                    fanouts, config.ackFilter());
            // A tag push started from the buffer is resolved into jobs like any other (same job group as the logic
            // nodes, which share the jobs); the buffer never holds a scheduled task, so nothing is scheduled here.
            TagPushService tagPush = started.add(new TagPushService(new TagRepository(redis), tasks, fanout,
                    config.kafkaBootstrap(), config.jobGroup(), config.consumer(), config.tagResolvers(),
                    config.tagQueue(), config.tagChunk(), config.recovery(), clock, registry, "bypass-" + config.id()));
            groups.connect(tagPush, NO_SCHEDULE);

            PermitGate permit = started.add(PermitGate.start(redis, config.permit(),
                    config.redisTimeout().multipliedBy(2), "bypass " + config.id(), clock, registry));
            redelivery.gatedBy(permit);

            DrainConsumer drain = started.add(new DrainConsumer(config.kafkaBootstrap(), Topics.BYPASS_GROUP,
                    Topics.BUFFER, "bypass-" + config.id(), config.drain(), new PipelineHandler(singles, groups),
                    permit::acquire, StoreFailures::isUnavailable, registry)).start();
            Gauge.builder("tern.bypass.node-id", nodeId, NodeIdLease::nodeId)
                    .description("msgId node id held (-1: none)").register(registry);

            // Not the connection's state, which flips on every reconnect: Redis silent past the outage threshold.
            RedisOutage outage = started.add(RedisOutage.watch(redis, RedisOutage.DEFAULT_AFTER,
                    RedisOutage.DEFAULT_PROBE_EVERY, clock, "bypass-" + config.id()));
            obs.storageMode(outage::isOutage, outage::outages);
            obs.check("redis", () -> !outage.isOutage());
            obs.check("kafka-consuming", drain::consuming);
            obs.check("broker-registry", brokers::fresh);
            obs.check("permit", permit::healthy);
            obs.fact("permit", permit::describe);
            HttpServer http = started.add(obs.addRoutes(HttpServer.builder("bypass-consumer", registry))
                    .maxBodyBytes(4096)
                    .storeUnavailableWhen(StoreFailures::isUnavailable)
                    .limits(config.httpLimits())
                    .tls(ServerTls.of(config.tls(), false, owner + " admin"))
                    .start(config.http()));
            log.info("[{}] draining {} as group {}; admin on http://{}:{}", owner, Topics.BUFFER, Topics.BYPASS_GROUP,
                    http.address().getHostString(), http.address().getPort());
            return new BypassConsumer(config, http, drain, started);
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
    }

    /** The buffer holds only pushes to send now: a scheduled task is scheduled at intake, never buffered. */
    private static final PushSchedule NO_SCHEDULE = new PushSchedule() {
        @Override
        public CompletableFuture<Void> schedule(long taskId, String appId, long sendAtMillis, String targetJson) {
            return CompletableFuture.failedFuture(new IllegalStateException("the bypass consumer schedules nothing"));
        }

        @Override
        public CompletableFuture<Boolean> cancel(long taskId) {
            return CompletableFuture.completedFuture(false);
        }
    };

    public InetSocketAddress address() {
        return http.address();
    }

    /** True while the drain holds its group assignment (possibly no partitions). */
    public boolean assigned() {
        return drain.assigned();
    }

    @Override
    public void close() {
        resources.close();
        log.info("[bypass {}] stopped", config.id());
    }
}
