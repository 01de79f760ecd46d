package io.tern.store.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The apps created through the SRE admin API, in the hash {@link Keys#apps()}: the logic nodes write and read them
 * (to authenticate app servers), the dispatchers read them (to let devices of those apps register). One entry per
 * app, replaced whole; {@code maxApps} bounds both what may be created and what a read takes in.
 */
public final class AppRepository {
    private static final String APPS = Keys.apps();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(AppRepository.class);

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
    // KEYS: apps hash. ARGV: most apps. -> {count} when there are more, else {count, {id, entry, ...}}.
    private static final LuaScript READ = LuaScript.of("""
            local n = redis.call('HLEN', KEYS[1])
            if n > tonumber(ARGV[1]) then return {n} end
            return {n, redis.call('HGETALL', KEYS[1])}""");

    public enum Created { CREATED, EXISTS, FULL }

    private final RedisStore redis;
    private final int maxApps;
    /** The invalid entries last warned of: readers re-read each second, and one bad entry must not warn each time. */
    private volatile Map<String, String> invalidWarned = Map.of();

    /** @param maxApps apps the hash holds at most: creation beyond is refused, a read of more fails */
    public AppRepository(RedisStore redis, int maxApps) {
        if (maxApps < 1) {
            throw new IllegalArgumentException("maxApps must be at least 1, got " + maxApps);
        }
        this.redis = redis;
        this.maxApps = maxApps;
    }

    /** Stores a new app, its secret last rotated now; EXISTS when the appId is taken, FULL at {@code maxApps}. */
    public CompletableFuture<Created> create(String appId, String appKey, String appSecret, String clientKey,
                                             long nowMillis) {
        String entry = entry(appKey, appSecret, clientKey, nowMillis, nowMillis);
        return CREATE.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{APPS},
                        appId, entry, Integer.toString(maxApps))
                .thenApply(r -> r == 1L ? Created.CREATED : r == 0L ? Created.EXISTS : Created.FULL);
    }

    /**
     * Replaces {@code before}'s secret (its client key stays: it ships inside the app); false when the entry changed
     * since it was read (read again and retry).
     */
    public CompletableFuture<Boolean> rotateSecret(StoredApp before, String newSecret, long nowMillis) {
        String next = entry(before.appKey(), newSecret, before.clientKey(), before.createdAtMillis(), nowMillis);
        return REPLACE.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{APPS},
                        before.appId(), before.raw(), next)
                .thenApply(r -> r == 1L);
    }

    /**
     * Every stored app, by appId; an entry that is not valid is left out (and logged). Fails when the hash holds more
     * than {@code maxApps} apps: a reader then keeps what it read last rather than take in an unbounded hash.
     */
    public CompletableFuture<Map<String, StoredApp>> apps() {
        return READ.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, new String[]{APPS},
                Integer.toString(maxApps)).thenApply(reply -> {
            long count = (Long) reply.get(0);
            if (reply.size() < 2) {
                throw new IllegalStateException(APPS + " holds " + count + " apps, more than the " + maxApps
                        + " this reader takes in: raise its apps-max");
            }
            List<?> flat = (List<?>) reply.get(1);
            Map<String, StoredApp> out = new TreeMap<>();
            Map<String, String> invalid = new HashMap<>();
            for (int i = 0; i + 1 < flat.size(); i += 2) {
                String id = (String) flat.get(i);
                String raw = (String) flat.get(i + 1);
                try {
                    out.put(id, parse(id, raw));
                } catch (RuntimeException e) {
                    invalid.put(id, raw);
                    if (!raw.equals(invalidWarned.get(id))) {
                        log.warn("[apps] {} entry {} is not valid, ignored: {}", APPS, id, e.getMessage());
                    }
                }
            }
            invalidWarned = invalid;
            return out;
        });
    }

    private static StoredApp parse(String id, String raw) {
        JsonNode n;
        try {
            n = JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored app " + id + " is not JSON", e);
        }
        if (n == null || !n.isObject()) {
            throw new IllegalStateException("stored app " + id + " is not a JSON object");
        }
        String appKey = text(n, "appKey");
        String appSecret = text(n, "appSecret");
        if (appKey == null || appSecret == null) {
            throw new IllegalStateException("stored app " + id + " has no appKey or appSecret");
        }
        return new StoredApp(id, appKey, appSecret, text(n, "clientKey"), n.path("createdAt").asLong(),
                n.path("secretRotatedAt").asLong(), raw);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || !v.isTextual() || v.asText().isEmpty() ? null : v.asText();
    }

    private static String entry(String appKey, String appSecret, String clientKey, long createdAt, long rotatedAt) {
        var n = JSON.createObjectNode().put("appKey", appKey).put("appSecret", appSecret);
        if (clientKey != null) {
            n.put("clientKey", clientKey);
        }
        return n.put("createdAt", createdAt).put("secretRotatedAt", rotatedAt).toString();
    }
}
