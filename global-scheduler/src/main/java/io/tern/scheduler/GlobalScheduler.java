package io.tern.scheduler;

import io.micrometer.core.instrument.Gauge;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.main.StartedResources;
import io.tern.runtime.metrics.Observability;
import io.tern.runtime.tls.ServerTls;
import io.tern.scheduler.admin.AdminApi;
import io.tern.scheduler.admin.OverviewApi;
import io.tern.scheduler.console.ConsolePages;
import io.tern.scheduler.config.SchedulerConfig;
import io.tern.scheduler.move.MoveCoordinator;
import io.tern.scheduler.move.MoveDriver;
import io.tern.scheduler.policy.RegionCommands;
import io.tern.store.Keys;
import io.tern.store.lease.LeaderElection;
import io.tern.store.lease.LeaderLease;
import io.tern.store.redis.RedisOutage;
import io.tern.store.redis.RedisStore;
import io.tern.store.redis.StoreFailures;
import io.tern.store.region.RegionPolicyRepository;
import io.tern.store.region.RegionPolicyWatcher;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.task.TaskRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;

/**
 * The global scheduler role: owns the region policy. Serves the SRE admin API ({@link AdminApi}, with the
 * console's other views in {@link OverviewApi}), the SRE console ({@link ConsolePages}), plus
 * {@code /metrics} and {@code /health} (whose {@code role} says leader or follower); holds or waits for
 * the leader lease ({@link LeaderElection}); and, while leading, drives the region moves
 * ({@link MoveDriver}, {@link MoveCoordinator}) from the live brokers' reports. A new leader resumes
 * whatever move the stored policy holds.
 */
public final class GlobalScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GlobalScheduler.class);

    private final SchedulerConfig config;
    private final HttpServer http;
    private final LeaderElection election;
    private final RegionPolicyWatcher watcher;
    // Stopped in reverse order of start.
    private final StartedResources resources;
    private boolean closed;

    private GlobalScheduler(SchedulerConfig config, HttpServer http, LeaderElection election,
                            RegionPolicyWatcher watcher, StartedResources resources) {
        this.config = config;
        this.http = http;
        this.election = election;
        this.watcher = watcher;
        this.resources = resources;
    }

    public static GlobalScheduler start(SchedulerConfig config) {
        return start(config, Clock.systemUTC());
    }

    /** Connects to Redis (fails if unreachable at start), reads brokers and the policy, then serves. */
    public static GlobalScheduler start(SchedulerConfig config, Clock clock) {
        String id = config.id();
        String owner = "global-scheduler " + id;
        log.info("[{}] starting with {}", owner, Settings.describe(config));
        if (config.sreTokenGenerated()) {
            log.warn("[{}] dev mode: generated SRE token (set scheduler.sre-token / TERN_SCHEDULER_SRE_TOKEN to choose one):"
                    + "\n\n    Authorization: Bearer {}\n", owner, config.sreToken());
        }
        StartedResources started = new StartedResources("global-scheduler " + id);
        try {
            Observability obs = new Observability("global-scheduler", id);
            started.add(obs);
            RedisStore redis = RedisStore.connect(config.redisUri(), config.redisTimeout(), config.redisReconnectMax());
            started.add(redis);
            Duration readTimeout = config.redisTimeout().multipliedBy(2).plusMillis(500);
            BrokerDirectory directory = new BrokerDirectory(new BrokerRegistry(redis), config.registryRefresh(),
                    readTimeout, clock, owner);
            started.add(directory);
            directory.start();
            redis.onReconnect(directory::refreshSoon);

            RegionPolicyRepository repository = new RegionPolicyRepository(redis, config.logMax());
            RegionPolicyWatcher watcher = new RegionPolicyWatcher(redis, repository, config.policyPoll(), readTimeout,
                    owner);
            started.add(watcher);
            watcher.start();

            LeaderElection election = new LeaderElection(new LeaderLease(redis, Keys.schedulerLeader()), "global-scheduler",
                    id, config.leaseTtl(),
                    readTimeout, clock);
            started.add(election);
            election.start();

            var registry = obs.registry();
            MoveCoordinator coordinator = new MoveCoordinator(config.stages(), config.pauseFailureRatio(),
                    config.pauseConnectP99().toMillis(), config.resumeAfter().toMillis(), config.statsWindow().toMillis(),
                    config.regions(), "scheduler:" + id, config.stageStall().toMillis());
            MoveDriver driver = new MoveDriver(repository, watcher, directory, election::isLeader, election.holder(), coordinator, clock,
                    config.tick(), readTimeout, registry, id);
            started.add(driver);
            driver.start();

            Gauge.builder("tern.scheduler.leader", election, e -> e.isLeader() ? 1 : 0)
                    .description("1 while this instance holds the leader lease").register(registry);
            obs.check("registry", directory::fresh);
            // Not the connection's state, which flips on every reconnect: Redis silent past the outage threshold.
            RedisOutage outage = started.add(RedisOutage.watch(redis, RedisOutage.DEFAULT_AFTER,
                    RedisOutage.DEFAULT_PROBE_EVERY, clock::millis, "global-scheduler-" + id));
            obs.storageMode(outage::isOutage, outage::outages);
            obs.check("redis", () -> !outage.isOutage());
            obs.check("region-policy", watcher::fresh);
            obs.fact("role", () -> election.isLeader() ? "leader" : "follower");

            AdminApi admin = new AdminApi(config.sreTokenBytes(), repository, directory::snapshot, driver::figures,
                    new RegionCommands(config.stages(), config.minRate(), config.maxRate()), config.regions(),
                    config.defaultRate(), config.logMax(), clock);
            HttpServer.Builder builder = HttpServer.builder("global-scheduler", registry)
                    .maxBodyBytes(4096)
                    .storeUnavailableWhen(StoreFailures::isUnavailable)
                    .limits(config.httpLimits())
                    .tls(ServerTls.of(config.tls(), false, owner));
            OverviewApi overview = new OverviewApi(directory::snapshot, TaskRepository.readOnly(redis, config.recentTasks()),
                    config.controllerUrl());
            ConsolePages console = ConsolePages.load();
            HttpServer http = obs.addRoutes(console.addRoutes(overview.addRoutes(admin.addRoutes(builder), admin::guarded)))
                    .start(config.http());
            started.add(http);
            log.info("[{}] admin API on {}, SRE console on {}{}; policy version {}", owner, http.address(), http.address(),
                    ConsolePages.PAGE, watcher.current().version());
            return new GlobalScheduler(config, http, election, watcher, started);
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return http.address();
    }

    public SchedulerConfig config() {
        return config;
    }

    /** True while this instance holds the leader lease. */
    public boolean leader() {
        return election.isLeader();
    }

    /** The policy version this instance last saw. */
    public long policyVersion() {
        return watcher.current().version();
    }

    /** Stops the admin API, then the moves, then releases the lease, then the watchers, Redis and metrics. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("[global-scheduler {}] stopping", config.id());
        resources.close();
        log.info("[global-scheduler {}] stopped", config.id());
    }
}
