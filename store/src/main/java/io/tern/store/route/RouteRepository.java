package io.tern.store.route;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** regId → broker routes. */
public final class RouteRepository {
    private static final LuaScript COMPARE_AND_DELETE = LuaScript.load("compare-and-delete");
    private static final LuaScript RESTORE = LuaScript.load("route-restore");

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

    /**
     * Writes the route again after an outage, unless another broker holds the device's route now
     * (the device moved there: that route is newer and stays).
     *
     * @return null when written, else the other broker's route
     */
    public CompletableFuture<Route> restore(String appId, String regId, Route route, long nowMillis) {
        return RESTORE.<String>run(redis.async(), ScriptOutputType.VALUE,
                        new String[]{Keys.route(appId, regId), Keys.device(appId, regId)}, route.encode(),
                        route.brokerId() + '|', Long.toString(nowMillis), Long.toString(DEVICE_RETENTION.toMillis()))
                .thenApply(v -> v == null || v.isEmpty() ? null : Route.decode(v));
    }

    /**
     * Marks a device known again that Redis forgot (it came back without its data) while another record proves the
     * device connected (its route kept in the disk KV); an existing mark is left as it is.
     */
    public CompletableFuture<Void> markKnown(String appId, String regId, long nowMillis) {
        return redis.async().set(Keys.device(appId, regId), Long.toString(nowMillis),
                SetArgs.Builder.nx().px(DEVICE_RETENTION.toMillis())).toCompletableFuture().thenAccept(x -> { });
    }

    public CompletableFuture<Route> get(String appId, String regId) {
        return redis.async().get(Keys.route(appId, regId)).toCompletableFuture().thenApply(Route::decode);
    }

    /**
     * For each regId, in order: is it a known device of the app, and where is it connected.
     * Two pipelined MGETs: one round trip for a whole list.
     */
    public CompletableFuture<List<DeviceRoute>> lookup(String appId, List<String> regIds) {
        if (regIds.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        var async = redis.async();
        var known = async.mget(regIds.stream().map(r -> Keys.device(appId, r)).toArray(String[]::new)).toCompletableFuture();
        var routes = async.mget(regIds.stream().map(r -> Keys.route(appId, r)).toArray(String[]::new)).toCompletableFuture();
        return known.thenCombine(routes, (k, r) -> {
            List<DeviceRoute> out = new ArrayList<>(regIds.size());
            for (int i = 0; i < regIds.size(); i++) {
                out.add(new DeviceRoute(regIds.get(i), k.get(i).hasValue(),
                        r.get(i).hasValue() ? Route.decode(r.get(i).getValue()) : null));
            }
            return out;
        });
    }

    /** Deletes the route only if it is still {@code expected}; true when deleted. */
    public CompletableFuture<Boolean> deleteIfCurrent(String appId, String regId, Route expected) {
        return COMPARE_AND_DELETE.<Long>run(redis.async(), ScriptOutputType.INTEGER,
                new String[]{Keys.route(appId, regId)}, expected.encode()).thenApply(n -> n == 1L);
    }
}
