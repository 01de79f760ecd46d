package io.tern.ratecontrol;

import io.micrometer.core.instrument.Gauge;
import io.tern.pipeline.buffer.BufferBacklog;
import io.tern.ratecontrol.admin.AdminApi;
import io.tern.ratecontrol.admin.ScaleApi;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.ratecontrol.control.ControlLoop;
import io.tern.ratecontrol.decision.ThrottleController;
import io.tern.ratecontrol.load.PlatformLoad;
import io.tern.ratecontrol.scale.Autoscaling;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.main.StartedResources;
import io.tern.runtime.metrics.Observability;
import io.tern.runtime.tls.ServerTls;
import io.tern.store.Keys;
import io.tern.store.lease.LeaderElection;
import io.tern.store.lease.LeaderLease;
import io.tern.store.redis.RedisOutage;
import io.tern.store.redis.RedisStore;
import io.tern.store.redis.StoreFailures;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.PermitUsageRepository;
import io.tern.store.throttle.ThrottleDirective;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;

/**
 * The rate controller role: holds or waits for the controller lease; while leading, reads the brokers' deliveries
 * against their capacity every tick and keeps the throttle directive; reads the burst buffer's backlog (the status
 * and the console show it, the scaler decides on it when scaling is on); serves the SRE admin API plus
 * {@code /metrics} and {@code /health}.
 */
public final class RateController implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RateController.class);
    public static final String ROLE = "rate-controller";

    private final RateControllerConfig config;
    private final HttpServer http;
    private final LeaderElection election;
    // Stopped in reverse order of start.
    private final StartedResources resources;
    private boolean closed;

    private RateController(RateControllerConfig config, HttpServer http, LeaderElection election,
                           StartedResources resources) {
        this.config = config;
        this.http = http;
        this.election = election;
        this.resources = resources;
    }

    public static RateController start(RateControllerConfig config) {
        return start(config, Clock.systemUTC());
    }

    /** Connects to Redis (fails if unreachable at start), then serves. */
    public static RateController start(RateControllerConfig config, Clock clock) {
        String id = config.id();
        String owner = ROLE + " " + id;
        log.info("[{}] starting with {}", owner, Settings.describe(config));
        if (config.sreTokenGenerated()) {
            log.warn("[{}] dev mode: generated SRE token (set ratecontrol.sre-token / TERN_RATECONTROL_SRE_TOKEN to choose one):"
                    + "\n\n    Authorization: Bearer {}\n", owner, config.sreToken());
        }
        StartedResources started = new StartedResources(owner);
        try {
            Observability obs = new Observability(ROLE, id);
            started.add(obs);
            RedisStore redis = RedisStore.connect(config.redisUri(), config.redisTimeout(), config.redisReconnectMax());
            started.add(redis);
            Duration readTimeout = config.redisTimeout().multipliedBy(2).plusMillis(500);

            LeaderLease lease = new LeaderLease(redis, Keys.rateControllerLeader());
            LeaderElection election = new LeaderElection(lease, ROLE, id, config.leaseTtl(), readTimeout, clock);
            started.add(election);
            election.start();

            var registry = obs.registry();
            DirectiveRepository directives = new DirectiveRepository(redis, config.logMax());
            ThrottleController controller = new ThrottleController(config.throttleAt(), config.releaseBelow(),
                    config.minDwell().toMillis(), config.permitStep(), config.minPermit(), config.maxPermit());
            ControlLoop loop = new ControlLoop(new BrokerRegistry(redis), new PermitUsageRepository(redis), directives,
                    lease, election, controller, config.regionCaps(), clock, config.tick(), readTimeout,
                    config.heartbeatHold(), config.minPermit(), id, registry);
            started.add(loop);
            loop.start();

            Gauge.builder("tern.ratecontrol.leader", election, e -> e.isLeader() ? 1 : 0)
                    .description("1 while this instance holds the controller lease").register(registry);
            // Not the connection's state, which flips on every reconnect: Redis silent past the outage threshold.
            RedisOutage outage = started.add(RedisOutage.watch(redis, RedisOutage.DEFAULT_AFTER,
                    RedisOutage.DEFAULT_PROBE_EVERY, clock::millis, "rate-controller-" + id));
            obs.storageMode(outage::isOutage, outage::outages);
            obs.check("redis", () -> !outage.isOutage());
            obs.check("leader-known", () -> loop.fresh() && loop.leaderId() != null);
            obs.fact("role", () -> election.isLeader() ? "leader" : "follower");
            obs.fact("leader", loop::leaderId);

            // Read whether scaling is on or off: the status and the console show the buffer's lag either way.
            BufferBacklog backlog = started.add(new BufferBacklog(config.scale().kafkaBootstrap(),
                    config.scale().backlogRefresh(), "ratecontrol " + id).start(registry));
            Autoscaling scaling = started.add(Autoscaling.start(config.scale(), backlog, redis, config.redisUri(),
                    config.devMode(), election::isLeader, clock::millis, readTimeout, registry, id));
            ScaleApi scaleApi = new ScaleApi(config.scale(), scaling.floors(), scaling::status, backlog, clock::millis);
            AdminApi admin = new AdminApi(config.sreTokenBytes(), directives, new AdminApi.View() {
                @Override
                public PlatformLoad load() {
                    return loop.load();
                }

                @Override
                public String leaderId() {
                    return loop.leaderId();
                }
            }, controller, config.throttleAt(), config.maxPermit(), config.logMax(), clock,
                    ControlLoop.changes(registry, ThrottleDirective.BY_SRE));
            HttpServer.Builder builder = HttpServer.builder(ROLE, registry)
                    .maxBodyBytes(4096)
                    .storeUnavailableWhen(StoreFailures::isUnavailable)
                    .limits(config.httpLimits())
                    .tls(ServerTls.of(config.tls(), false, owner));
            HttpServer http = obs.addRoutes(scaleApi.addRoutes(admin.addRoutes(builder), admin::guarded)).start(config.http());
            started.add(http);
            log.info("[{}] admin API on {}", owner, http.address());
            return new RateController(config, http, election, started);
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return http.address();
    }

    public RateControllerConfig config() {
        return config;
    }

    /** True while this instance holds the controller lease. */
    public boolean leader() {
        return election.isLeader();
    }

    /** Stops the admin API, then the control loop, then releases the lease, then Redis and metrics. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("[{} {}] stopping", ROLE, config.id());
        resources.close();
        log.info("[{} {}] stopped", ROLE, config.id());
    }
}
