package io.tern.logic.apps;

import io.tern.logic.auth.AppCredentials;
import io.tern.logic.limits.LimitsConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.log.LogThrottle;
import io.tern.store.app.StoredApp;
import io.tern.store.refresh.PeriodicRead;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The apps a logic node knows and their limits: the configured ones ({@code logic.apps.*},
 * {@code logic.limits.*}) and what the SRE admin API stored in the {@link AppRegistry}, re-read every
 * {@code refresh} (a change made through another node is seen here within that). A configured app's credentials
 * win over a stored one of the same id (the admin API refuses to create one); stored limits win over configured.
 * When an app's limits change, {@code onLimitsChanged} hears its id.
 */
public final class AppDirectory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppDirectory.class);
    private static final LogThrottle BAD_APP = new LogThrottle(Duration.ofMinutes(1));

    /**
     * @param read        which reload read it: a slower, older read never replaces a newer one
     * @param credentials the stored apps' credentials, made once per read (every /v1/auth request looks one up)
     */
    private record Snapshot(long read, Map<String, StoredApp> apps, Map<String, AppCredentials> credentials,
                            Map<String, LimitsConfig.AppLimit> limits) {
        static Snapshot of(long read, Map<String, StoredApp> apps, Map<String, LimitsConfig.AppLimit> limits) {
            Map<String, AppCredentials> credentials = new HashMap<>();
            apps.forEach((id, app) -> {
                try {
                    credentials.put(id, new AppCredentials(id, app.appKey(), app.appSecret()));
                } catch (ConfigException e) {
                    if (BAD_APP.allow()) {
                        log.warn("[apps] stored app {} is not usable, ignored: {}", id, e.getMessage());
                    }
                }
            });
            return new Snapshot(read, apps, Map.copyOf(credentials), limits);
        }
    }

    private final Map<String, AppCredentials> configured;
    private final LimitsConfig configuredLimits;
    private final AppRegistry registry;
    private final AtomicReference<Snapshot> current = new AtomicReference<>(new Snapshot(0, Map.of(), Map.of(), Map.of()));
    private final AtomicLong reads = new AtomicLong();
    private final PeriodicRead<Snapshot> refreshes;
    private volatile Consumer<String> onLimitsChanged = appId -> { };

    /** @param readTimeout bound on one read, and on the wait for the first before the node serves */
    public AppDirectory(Map<String, AppCredentials> configured, LimitsConfig configuredLimits, AppRegistry registry,
                        Duration refresh, Duration readTimeout, String owner) {
        this.configured = Map.copyOf(configured);
        this.configuredLimits = configuredLimits;
        this.registry = registry;
        this.refreshes = new PeriodicRead<>(owner, "apps", "stored apps", refresh, readTimeout, this::read, this::apply);
    }

    /** Whom to tell when an app's limits changed (the node's {@code AppLimits}). */
    public AppDirectory onLimitsChanged(Consumer<String> listener) {
        this.onLimitsChanged = listener;
        return this;
    }

    /**
     * Reads the registry once before the node serves (an app created through another node must not get 401 here
     * for a refresh; if the read fails, configured apps serve meanwhile), then every {@code refresh}.
     */
    public AppDirectory start() {
        refreshes.start();
        return this;
    }

    /**
     * Reads the registry now (after a write through this node: seen here at once). When it completes, what is in
     * force here is at least as new as this read.
     */
    public CompletableFuture<Void> reload() {
        return read().thenAccept(this::apply);
    }

    private CompletableFuture<Snapshot> read() {
        // Numbered in the order sent: one connection answers in that order, so a higher number is a newer read.
        synchronized (reads) {
            long read = reads.incrementAndGet();
            return registry.apps().thenCombine(registry.limits(), (a, l) -> Snapshot.of(read, a, l));
        }
    }

    private void apply(Snapshot next) {
        Snapshot before = current.getAndUpdate(s -> s.read() > next.read() ? s : next);
        if (before.read() > next.read()) {
            return; // a newer read is already in force
        }
        Set<String> ids = new HashSet<>(before.limits().keySet());
        ids.addAll(next.limits().keySet());
        for (String id : ids) {
            if (!Objects.equals(before.limits().get(id), next.limits().get(id))) {
                onLimitsChanged.accept(id);
            }
        }
    }

    /** The app's credentials, or null when no such app is configured or stored. */
    public AppCredentials credentials(String appId) {
        AppCredentials c = configured.get(appId);
        if (c != null) {
            return c;
        }
        return current.get().credentials().get(appId);
    }

    /** The stored entry of an app created through the admin API, or null (configured apps have none). */
    public StoredApp stored(String appId) {
        return current.get().apps().get(appId);
    }

    public Set<String> configuredIds() {
        return configured.keySet();
    }

    public Set<String> storedIds() {
        return current.get().credentials().keySet();
    }

    public boolean configured(String appId) {
        return configured.containsKey(appId);
    }

    /** The secret callbacks of the app are signed with, or null. */
    public String secret(String appId) {
        AppCredentials c = credentials(appId);
        return c == null ? null : c.appSecret();
    }

    /** The app's effective limits: stored, else configured for it, else the defaults. */
    public LimitsConfig.AppLimit limit(String appId) {
        LimitsConfig.AppLimit stored = current.get().limits().get(appId);
        return stored != null ? stored : configuredLimits.forApp(appId);
    }

    /** Whether the limits in force come from the admin API ("admin") or the configuration ("config"). */
    public String limitSource(String appId) {
        return current.get().limits().containsKey(appId) ? "admin" : "config";
    }

    @Override
    public void close() {
        refreshes.close();
    }
}
