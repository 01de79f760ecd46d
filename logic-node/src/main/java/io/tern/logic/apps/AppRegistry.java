package io.tern.logic.apps;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.logic.auth.AppCredentials;
import io.tern.logic.limits.LimitsConfig;
import io.tern.runtime.log.LogThrottle;
import io.tern.store.app.AppRepository;
import io.tern.store.app.StoredApp;
import io.tern.store.redis.RedisStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Apps and limits the SRE admin API set, in Redis so every logic node sees them: the apps created at run time in
 * the store's {@link AppRepository} (which the dispatchers read too, for the apps' client keys), and hash
 * {@code tern:app-limits} (appId → {@code {"rate","dailyQuota"}}) for limits that override the configured ones, of
 * any app. Apps configured in {@code logic.apps.*} are not stored here.
 */
public final class AppRegistry {
    private static final String LIMITS = io.tern.store.Keys.appLimits();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(AppRegistry.class);
    /** Every node re-reads the registry each second: one bad entry would otherwise warn every second. */
    private static final LogThrottle BAD_ENTRY = new LogThrottle(Duration.ofMinutes(1));

    private final RedisStore redis;
    private final AppRepository apps;

    /** @param maxApps apps the registry holds at most (creation beyond it is refused) */
    public AppRegistry(RedisStore redis, int maxApps) {
        this.redis = redis;
        this.apps = new AppRepository(redis, maxApps);
    }

    /** Stores a new app with the client key its devices register with. */
    public CompletableFuture<AppRepository.Created> create(AppCredentials app, String clientKey, long nowMillis) {
        return apps.create(app.appId(), app.appKey(), app.appSecret(), clientKey, nowMillis);
    }

    /**
     * Replaces {@code before}'s secret, keeping its client key; false when the entry changed since it was read (read
     * again and retry).
     */
    public CompletableFuture<Boolean> rotate(StoredApp before, String newSecret, long nowMillis) {
        return apps.rotateSecret(before, newSecret, nowMillis);
    }

    public CompletableFuture<Void> setLimits(String appId, LimitsConfig.AppLimit limit) {
        ObjectNode n = JSON.createObjectNode().put("rate", limit.rate()).put("dailyQuota", limit.dailyQuota());
        return redis.async().hset(LIMITS, appId, n.toString()).toCompletableFuture().thenApply(x -> null);
    }

    /** Every stored app, by appId; an entry that is not valid is left out (and logged). */
    public CompletableFuture<Map<String, StoredApp>> apps() {
        return apps.apps();
    }

    /** Every stored limits override, by appId; an entry that is not valid is left out (and logged). */
    public CompletableFuture<Map<String, LimitsConfig.AppLimit>> limits() {
        return redis.async().hgetall(LIMITS).toCompletableFuture().thenApply(all -> {
            Map<String, LimitsConfig.AppLimit> out = new TreeMap<>();
            all.forEach((id, raw) -> {
                try {
                    JsonNode n = JSON.readTree(raw);
                    out.put(id, new LimitsConfig.AppLimit(n.path("rate").asInt(), n.path("dailyQuota").asLong()));
                } catch (JsonProcessingException | RuntimeException e) {
                    if (BAD_ENTRY.allow()) {
                        log.warn("[apps] {} entry {} is not valid, ignored: {}", LIMITS, id, e.getMessage());
                    }
                }
            });
            return out;
        });
    }
}
