package io.tern.store.route;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** regId → broker routes. */
public final class RouteRepository {
    private static final LuaScript COMPARE_AND_DELETE = LuaScript.load("route-compare-and-delete");

    private final RedisStore redis;

    public RouteRepository(RedisStore redis) {
        this.redis = redis;
    }

    /** Sets the route and returns the one it replaced, or null. */
    public CompletableFuture<Route> put(String appId, String regId, Route route) {
        return redis.async().setGet(Keys.route(appId, regId), route.encode(), SetArgs.Builder.keepttl())
                .toCompletableFuture().thenApply(Route::decode);
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
