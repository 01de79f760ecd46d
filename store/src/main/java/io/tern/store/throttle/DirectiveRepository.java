package io.tern.store.throttle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The persisted throttle directive: one hash replaced only by compare-and-set on the version (the same
 * script as the region policy), an audit log, a pub/sub channel carrying each new version to obeyers, and
 * the leading controller's heartbeat, whose absence tells obeyers the directive is no longer being kept.
 */
public final class DirectiveRepository {
    /** Pub/sub channel announcing a new directive version (the message is the version). */
    public static final String CHANGES_CHANNEL = "tern:rate:changed";
    public static final int DEFAULT_LOG_MAX = 1000;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final LuaScript REPLACE = LuaScript.load("versioned-replace");

    private final RedisStore redis;
    private final int logMax;

    public DirectiveRepository(RedisStore redis) {
        this(redis, DEFAULT_LOG_MAX);
    }

    public DirectiveRepository(RedisStore redis, int logMax) {
        if (logMax < 1) {
            throw new IllegalArgumentException("logMax must be at least 1, got " + logMax);
        }
        this.redis = redis;
        this.logMax = logMax;
    }

    /**
     * The stored directive, or {@link ThrottleDirective#NONE}. Fails with {@link IllegalStateException} when the
     * stored one is not a valid directive (e.g. a negative or absurd rate): obeyers keep their last good one.
     */
    public CompletableFuture<ThrottleDirective> load() {
        return redis.async().hget(Keys.throttleDirective(), "json").toCompletableFuture()
                .thenApply(json -> json == null ? ThrottleDirective.NONE : decode(json, ThrottleDirective.class));
    }

    /**
     * The stored version alone, readable when the directive is not (a stored rate out of bounds): the controller
     * replaces an unreadable directive with the next version.
     */
    public CompletableFuture<Long> storedVersion() {
        return redis.async().hget(Keys.throttleDirective(), "v").toCompletableFuture()
                .thenApply(v -> v == null ? 0L : Long.parseLong(v));
    }

    /**
     * Stores {@code next} if the stored directive is still at {@code next.version() - 1}.
     *
     * @param by          who, for the log ("controller rc1", "sre")
     * @param leaseHolder the controller lease holder the writer must be ({@code controllerId|token}), or null for
     *                    an SRE's write
     * @return true when stored; false when stale or the lease is another's
     */
    public CompletableFuture<Boolean> replace(ThrottleDirective next, String by, String leaseHolder) {
        DirectiveChange logged = new DirectiveChange(next.version(), next.issuedAtMillis(), by, next);
        String[] keys = leaseHolder == null ? new String[]{Keys.throttleDirective(), Keys.throttleLog()}
                : new String[]{Keys.throttleDirective(), Keys.throttleLog(), Keys.rateControllerLeader()};
        String[] args = {Long.toString(next.version() - 1), Long.toString(next.version()), encode(next),
                encode(logged), Integer.toString(logMax), CHANGES_CHANNEL, leaseHolder == null ? "" : leaseHolder};
        return REPLACE.<Long>run(redis.async(), ScriptOutputType.INTEGER, keys, args)
                .thenApply(stored -> stored == 1L);
    }

    /** The newest {@code limit} changes, newest first. */
    public CompletableFuture<List<DirectiveChange>> history(int limit) {
        return redis.async().lrange(Keys.throttleLog(), 0, Math.max(0, limit - 1)).toCompletableFuture()
                .thenApply(rows -> {
                    List<DirectiveChange> out = new ArrayList<>(rows.size());
                    for (String row : rows) {
                        try {
                            out.add(JSON.readValue(row, DirectiveChange.class));
                        } catch (JsonProcessingException e) {
                            // An entry this version cannot read is skipped, not fatal.
                        }
                    }
                    return out;
                });
    }

    /** The leader's tick: obeyers trust the directive while this key lives ({@code holdMillis}). */
    public CompletableFuture<Void> heartbeat(long nowMillis, long holdMillis) {
        return redis.async().set(Keys.rateControllerAlive(), Long.toString(nowMillis), SetArgs.Builder.px(holdMillis))
                .toCompletableFuture().thenApply(x -> null);
    }

    /** The leader's last tick (epoch ms), or -1 when no controller has ticked within its hold time. */
    public CompletableFuture<Long> lastHeartbeat() {
        return redis.async().get(Keys.rateControllerAlive()).toCompletableFuture()
                .thenApply(v -> v == null ? -1L : Long.parseLong(v));
    }

    static <T> T decode(String json, Class<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored throttle directive is not readable: " + e.getOriginalMessage(), e);
        }
    }

    static String encode(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
