package io.tern.store.lease;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.concurrent.CompletableFuture;

/**
 * A role's leader lease on one key ({@link Keys#schedulerLeader()}, {@link Keys#rateControllerLeader()}): one
 * holder, {@code instanceId|token}, taken with SET NX PX, renewed and released only by that holder (compare in
 * Lua), so a deposed leader can neither extend nor drop its successor's lease. Writes a leader makes are fenced
 * by the same key (the versioned-replace script checks the holder).
 */
public final class LeaderLease {
    private static final LuaScript RENEW = LuaScript.of(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0");
    private static final LuaScript RELEASE = LuaScript.load("compare-and-delete");

    private final RedisStore redis;
    private final String key;

    public LeaderLease(RedisStore redis, String key) {
        this.redis = redis;
        this.key = key;
    }

    /** @return true when the lease was free and is now {@code holder}'s for {@code ttlMillis} */
    public CompletableFuture<Boolean> acquire(String holder, long ttlMillis) {
        return redis.async().set(key, holder, SetArgs.Builder.nx().px(ttlMillis))
                .toCompletableFuture().thenApply("OK"::equals);
    }

    /** @return false when the lease is no longer {@code holder}'s (expired, or taken by another) */
    public CompletableFuture<Boolean> renew(String holder, long ttlMillis) {
        return RENEW.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{key},
                holder, Long.toString(ttlMillis)).thenApply(n -> n == 1L);
    }

    /** Frees the lease if {@code holder} still has it, so the other instance need not wait for the TTL. */
    public CompletableFuture<Void> release(String holder) {
        return RELEASE.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{key}, holder)
                .thenApply(n -> null);
    }

    /** The current holder ({@code instanceId|token}), or null. */
    public CompletableFuture<String> holder() {
        return redis.async().get(key).toCompletableFuture();
    }
}
