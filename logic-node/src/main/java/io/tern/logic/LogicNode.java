package io.tern.logic;

import io.micrometer.core.instrument.Gauge;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.broker.BrokerLinks;
import io.tern.logic.config.LogicConfig;
import io.tern.logic.http.PushApi;
import io.tern.logic.id.MsgIdGenerator;
import io.tern.logic.push.SinglePushService;
import io.tern.logic.receipt.AckConsumer;
import io.tern.logic.receipt.ReceiptListener;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.metrics.Observability;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.QueuePolicy;
import io.tern.store.receipt.AckRepository;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.BrokerDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.function.LongSupplier;

/** A logic node: the app-server push API, routing to brokers, and the ack consumer. */
public final class LogicNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogicNode.class);

    private final LogicConfig config;
    private final Observability observability;
    private final RedisStore redis;
    private final BrokerDirectory liveBrokers;
    private final BrokerLinks links;
    private final AckConsumer acks;
    private final HttpServer http;

    private LogicNode(LogicConfig config) {
        this.config = config;
        LongSupplier clock = System::currentTimeMillis;
        observability = new Observability("logic-node", config.id());
        redis = RedisStore.connect(config.redisUri(), config.redisTimeout());
        MessageRepository messages = new MessageRepository(redis, new QueuePolicy(config.queueMax(), config.maxTtl(),
                config.statusRetention(), config.idempotencyWindow()));
        liveBrokers = new BrokerDirectory(new BrokerRegistry(redis), config.registryRefresh(),
                config.redisTimeout().multipliedBy(2), Clock.systemUTC(), "logic " + config.id()).start();
        links = new BrokerLinks(config.brokerConnectTimeout(), config.brokerReplyTimeout(), config.brokerMaxInFlight());
        Gauge.builder("tern.logic.broker.inflight", links, BrokerLinks::inFlight)
                .description("push commands awaiting a broker's reply").register(observability.registry());
        SinglePushService singlePush = new SinglePushService(messages, liveBrokers, links,
                new MsgIdGenerator(config.nodeId(), clock), clock, observability.registry());
        AppAuthenticator auth = new AppAuthenticator(config.apps(), config.authTokenSecret(), config.authTokenTtl(),
                config.authClockSkew(), clock);
        acks = new AckConsumer(config.kafkaBootstrap(), config.receiptGroup(), config.receiptBatchMax(),
                new AckRepository(redis), ReceiptListener.NONE, clock, observability.registry(), config.id()).start();
        observability.check("redis", redis::isOpen);
        observability.check("broker-registry", liveBrokers::fresh);
        PushApi api = new PushApi(auth, singlePush, messages, config, clock);
        http = api.addRoutes(observability.addRoutes(HttpServer.builder("logic-node", observability.registry())))
                .maxBodyBytes(config.maxBodyBytes())
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

    /** True once the ack consumer holds its partitions: receipts flow from then on. */
    public boolean receiptsReady() {
        return acks.assigned();
    }

    @Override
    public void close() {
        http.close();
        acks.close();
        links.close();
        liveBrokers.close();
        redis.close();
        observability.close();
        log.info("[logic {}] stopped", config.id());
    }
}
