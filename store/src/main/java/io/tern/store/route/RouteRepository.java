package io.tern.store.route;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** regId → broker routes. */
public final class RouteRepository {
    private static final LuaScript COMPARE_AND_DELETE = LuaScript.load("route-compare-and-delete");

    /** A device that has not connected for this long is forgotten (pushes to it answer 404). */
    public static final Duration DEVICE_RETENTION = Duration.ofDays(30);

    private final RedisStore redis;

    public RouteRepository(RedisStore redis) {
        this.redis = redis;
    }

    /**
     * Sets the route and returns the one it replaced, or null. Also marks the device known, so
     * pushes to a regId that never connected can be refused instead of queued forever.
     */
    public CompletableFuture<Route> put(String appId, String regId, Route route, long nowMillis) {
        var async = redis.async();
        var known = async.set(Keys.device(appId, regId), Long.toString(nowMillis),
                SetArgs.Builder.px(DEVICE_RETENTION.toMillis())).toCompletableFuture();
        var previous = async.setGet(Keys.route(appId, regId), route.encode()).toCompletableFuture();
        return known.thenCombine(previous, (ok, prev) -> Route.decode(prev));
    }

    public CompletableFuture<Route> get(String appId, String regId) {
        return redis.async().get(Keys.route(appId, regId)).toCompletableFuture().thenApply(Route::decode);
    }

    /** Routes of many devices in one round trip; null entries for devices with no route. */
    public CompletableFuture<List<Route>> getAll(String appId, List<String> regIds) {
        String[] keys = regIds.stream().map(r -> Keys.route(appId, r)).toArray(String[]::new);
        return redis.async().mget(keys).toCompletableFuture()
                .thenApply(kvs -> kvs.stream().map(kv -> kv.hasValue() ? Route.decode(kv.getValue()) : null).toList());
    }

    /** Deletes the route only if it is still {@code expected}; true when deleted. */
    public CompletableFuture<Boolean> deleteIfCurrent(String appId, String regId, Route expected) {
        return COMPARE_AND_DELETE.<Long>run(redis.async(), ScriptOutputType.INTEGER,
                new String[]{Keys.route(appId, regId)}, expected.encode()).thenApply(n -> n == 1L);
    }
}
