package io.tern.dispatcher;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.store.registry.BrokerDirectory;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.dispatcher.http.DispatchHandler;
import io.tern.dispatcher.http.RegisterHandler;
import io.tern.dispatcher.identity.DeviceIdentity;
import io.tern.dispatcher.identity.StoredClientKeys;
import io.tern.protocol.token.ConnectTokenSigner;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.main.StartedResources;
import io.tern.runtime.tls.ServerTls;
import io.tern.runtime.metrics.Observability;
import io.tern.store.app.AppRepository;
import io.tern.store.redis.RedisOutage;
import io.tern.store.redis.RedisStore;
import io.tern.store.redis.StoreFailures;
import io.tern.store.region.RegionPolicyRepository;
import io.tern.store.region.RegionPolicyWatcher;
import io.tern.store.registry.BrokerRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;

/**
 * The dispatcher role: {@code POST /v1/register} issues a device its regId and secret;
 * {@code GET /v1/dispatch} answers a device that signs with that secret with an ordered broker list
 * and a signed connect token, from an in-memory copy of the broker registry; plus
 * {@code /metrics} and {@code /health}.
 */
public final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final DispatcherConfig config;
    private final HttpServer http;
    private final BrokerDirectory directory;
    // Stopped in reverse order of start.
    private final StartedResources resources;
    private boolean closed;

    private Dispatcher(DispatcherConfig config, HttpServer http, BrokerDirectory directory, StartedResources resources) {
        this.config = config;
        this.http = http;
        this.directory = directory;
        this.resources = resources;
    }

    public static Dispatcher start(DispatcherConfig config) {
        return start(config, Clock.systemUTC());
    }

    /**
     * Connects to Redis (fails if it is unreachable at start), reads the broker registry once,
     * then serves HTTP.
     */
    public static Dispatcher start(DispatcherConfig config, Clock clock) {
        String id = config.id();
        log.info("[dispatcher {}] starting with {}", id, Settings.describe(config));
        if (config.devMode()) {
            log.warn("[dispatcher {}] dev mode: the development connect-token secret and device key are accepted; "
                    + "never run it where devices are real", id);
        }
        StartedResources started = new StartedResources("dispatcher " + id);
        try {
            Observability obs = new Observability("dispatcher", id);
            started.add(obs);
            RedisStore redis = RedisStore.connect(config.redisUri(), config.redisTimeout(), config.redisReconnectMax());
            started.add(redis);
            RedisOutage outage = RedisOutage.watch(redis, config.redisOutageAfter(), RedisOutage.DEFAULT_PROBE_EVERY,
                    clock::millis, "dispatcher-" + id);
            started.add(outage);
            obs.storageMode(outage::isOutage, outage::outages);
            // live() is two round trips, each bounded by the command timeout.
            Duration readTimeout = config.redisTimeout().multipliedBy(2).plusMillis(500);
            BrokerDirectory directory = new BrokerDirectory(new BrokerRegistry(redis), config.registryRefresh(),
                    readTimeout, clock, "dispatcher " + id);
            started.add(directory);
            directory.start();
            // Brokers re-register as soon as Redis is back after an outage: list them again at once.
            redis.onReconnect(directory::refreshSoon);

            var registry = obs.registry();
            Gauge.builder("dispatcher.live.brokers", directory, d -> d.snapshot().brokers().size())
                    .description("Brokers in the current registry snapshot").register(registry);
            Gauge.builder("dispatcher.registry.age.seconds", directory, BrokerDirectory::ageSeconds)
                    .description("Age of the registry snapshot; -1 before the first successful read").register(registry);
            FunctionCounter.builder("dispatcher.registry.refresh.failures", directory, BrokerDirectory::failures)
                    .description("Failed reads of the broker registry").register(registry);
            // In a Redis outage dispatch goes on from the last snapshot and policy (nothing it does writes Redis):
            // still ready, "storage" says outage, dispatcher.registry.age.seconds how old the snapshot is.
            // Until the outage is declared the snapshot may age by the outage threshold too: no DOWN-UP flap.
            long staleMillis = BrokerDirectory.STALE_AFTER_PERIODS * config.registryRefresh().toMillis()
                    + config.redisOutageAfter().toMillis();
            obs.check("registry", () -> outage.isOutage() || (directory.ageSeconds() >= 0
                    && directory.ageSeconds() * 1000 <= staleMillis));
            RegionPolicyWatcher regions = new RegionPolicyWatcher(redis, new RegionPolicyRepository(redis),
                    config.regionPolicyPoll(), readTimeout, "dispatcher " + id);
            started.add(regions);
            regions.start();
            Gauge.builder("dispatcher.region.policy.version", regions, w -> w.current().version())
                    .description("Version of the region policy this dispatcher follows (0: none written yet)")
                    .register(registry);
            obs.check("region-policy", () -> regions.fresh() || outage.isOutage());

            ConnectTokenSigner signer = new ConnectTokenSigner(config.tokenSecret().getBytes(StandardCharsets.UTF_8));
            StoredClientKeys storedKeys = new StoredClientKeys(new AppRepository(redis, config.appsMax()),
                    config.appsRefresh(), readTimeout, "dispatcher " + id);
            started.add(storedKeys);
            storedKeys.start();
            Gauge.builder("dispatcher.stored.apps", storedKeys, StoredClientKeys::size)
                    .description("Apps created through the admin API whose devices may register here").register(registry);
            FunctionCounter.builder("dispatcher.stored.apps.refresh.failures", storedKeys, StoredClientKeys::failures)
                    .description("Failed reads of the stored apps").register(registry);
            DeviceIdentity identity = new DeviceIdentity(config.devices(), storedKeys::clientKey, new SecureRandom());
            DispatchHandler handler = new DispatchHandler(directory::snapshot, regions::current, identity, signer, clock,
                    config.defaultRegion(), config.maxHomeBrokers(), config.loadBucket(), config.tokenTtl(), registry, id);
            HttpServer.Builder builder = HttpServer.builder("dispatcher", registry)
                    // A register body is two short strings; nothing legitimate sends more.
                    .maxBodyBytes(4096)
                    .storeUnavailableWhen(StoreFailures::isUnavailable)
                    .route(HttpMethod.POST, RegisterHandler.PATH, new RegisterHandler(identity, registry, id))
                    .limits(config.httpLimits())
                    .tls(ServerTls.of(config.tls(), false, "dispatcher " + id))
                    .route(HttpMethod.GET, DispatchHandler.PATH, handler);
            HttpServer http = obs.addRoutes(builder).start(config.http());
            started.add(http);
            log.info("[dispatcher {}] serving on {} with {} live brokers", id, http.address(),
                    directory.snapshot().brokers().size());
            return new Dispatcher(config, http, directory, started);
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return http.address();
    }

    public DispatcherConfig config() {
        return config;
    }

    /** True while the broker snapshot is fresh (what /health reports as "registry"). */
    public boolean registryFresh() {
        return directory.fresh();
    }

    /** Stops accepting requests, then the registry refresh, then Redis and metrics. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("[dispatcher {}] stopping", config.id());
        resources.close();
        log.info("[dispatcher {}] stopped", config.id());
    }
}
