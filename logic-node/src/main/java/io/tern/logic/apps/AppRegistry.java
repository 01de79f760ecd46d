package io.tern.logic.apps;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.ScriptOutputType;
import io.tern.logic.auth.AppCredentials;
import io.tern.logic.limits.LimitsConfig;
import io.tern.runtime.log.LogThrottle;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Apps and limits the SRE admin API set, in Redis so every logic node sees them: hash {@code tern:apps}
 * (appId → {@code {"appKey","appSecret","createdAt","secretRotatedAt"}}) for apps created at run time, hash
 * {@code tern:app-limits} (appId → {@code {"rate","dailyQuota"}}) for limits that override the configured ones, of any app.
 * Apps configured in {@code logic.apps.*} are not stored here.
 */
public final class AppRegistry {
    private static final String APPS = io.tern.store.Keys.apps();
    private static final String LIMITS = io.tern.store.Keys.appLimits();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(AppRegistry.class);
    /** Every node re-reads the registry each second: one bad entry would otherwise warn every second. */
    private static final LogThrottle BAD_ENTRY = new LogThrottle(Duration.ofMinutes(1));

    // KEYS: apps hash. ARGV: appId, entry, most apps. -> 1 created, 0 exists, -1 full.
    private static final LuaScript CREATE = LuaScript.of("""
            if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
            if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            return 1""");
    // KEYS: apps hash. ARGV: appId, entry as read, new entry. -> 1 replaced, 0 changed meanwhile (or gone).
    private static final LuaScript REPLACE = LuaScript.of("""
            if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
            return 1""");

    /** An app as stored: its credentials and when they were made; {@code raw} is the entry as read (for CAS). */
    public record StoredApp(AppCredentials credentials, long createdAtMillis, long secretRotatedAtMillis, String raw) {
    }

    public enum Created { CREATED, EXISTS, FULL }

    private final RedisStore redis;
    private final int maxApps;

    /** @param maxApps apps the registry holds at most (creation beyond it is refused) */
    public AppRegistry(RedisStore redis, int maxApps) {
        this.redis = redis;
        this.maxApps = maxApps;
    }

    public CompletableFuture<Created> create(AppCredentials app, long nowMillis) {
        return CREATE.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{APPS},
                        app.appId(), entry(app, nowMillis, nowMillis), Integer.toString(maxApps))
                .thenApply(r -> r == 1L ? Created.CREATED : r == 0L ? Created.EXISTS : Created.FULL);
    }

    /** Replaces {@code before}'s secret; false when the entry changed since it was read (read again and retry). */
    public CompletableFuture<Boolean> rotate(StoredApp before, String newSecret, long nowMillis) {
        AppCredentials c = before.credentials();
        String next = entry(new AppCredentials(c.appId(), c.appKey(), newSecret), before.createdAtMillis(), nowMillis);
        return REPLACE.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{APPS}, c.appId(), before.raw(), next)
                .thenApply(r -> r == 1L);
    }

    public CompletableFuture<Void> setLimits(String appId, LimitsConfig.AppLimit limit) {
        ObjectNode n = JSON.createObjectNode().put("rate", limit.rate()).put("dailyQuota", limit.dailyQuota());
        return redis.async().hset(LIMITS, appId, n.toString()).toCompletableFuture().thenApply(x -> null);
    }

    /** Every stored app, by appId; an entry that is not valid is left out (and logged). */
    public CompletableFuture<Map<String, StoredApp>> apps() {
        return redis.async().hgetall(APPS).toCompletableFuture().thenApply(all -> {
            Map<String, StoredApp> out = new TreeMap<>();
            all.forEach((id, raw) -> {
                try {
                    out.put(id, parseApp(id, raw));
                } catch (RuntimeException e) {
                    skipped(APPS, id, e);
                }
            });
            return out;
        });
    }

    /** Every stored limits override, by appId; an entry that is not valid is left out (and logged). */
    public CompletableFuture<Map<String, LimitsConfig.AppLimit>> limits() {
        return redis.async().hgetall(LIMITS).toCompletableFuture().thenApply(all -> {
            Map<String, LimitsConfig.AppLimit> out = new TreeMap<>();
            all.forEach((id, raw) -> {
                try {
                    JsonNode n = read(id, raw);
                    out.put(id, new LimitsConfig.AppLimit(n.path("rate").asInt(), n.path("dailyQuota").asLong()));
                } catch (RuntimeException e) {
                    skipped(LIMITS, id, e);
                }
            });
            return out;
        });
    }

    private static void skipped(String hash, String id, RuntimeException e) {
        if (BAD_ENTRY.allow()) {
            log.warn("[apps] {} entry {} is not valid, ignored: {}", hash, id, e.getMessage());
        }
    }

    private static StoredApp parseApp(String id, String raw) {
        JsonNode n = read(id, raw);
        return new StoredApp(new AppCredentials(id, n.path("appKey").asText(null), n.path("appSecret").asText(null)),
                n.path("createdAt").asLong(), n.path("secretRotatedAt").asLong(), raw);
    }

    private static JsonNode read(String id, String raw) {
        try {
            return JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored app " + id + " is not JSON", e);
        }
    }

    private static String entry(AppCredentials app, long createdAt, long rotatedAt) {
        return JSON.createObjectNode().put("appKey", app.appKey()).put("appSecret", app.appSecret())
                .put("createdAt", createdAt).put("secretRotatedAt", rotatedAt).toString();
    }
}
