package io.tern.store.nodeid;

import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Leases of logic node ids (the node bits of every msgId): one holder per id, renewed while it
 * lives, with a per-id high-water mark of the milliseconds a holder may have used.
 */
public final class NodeIdRepository {
    private static final LuaScript ACQUIRE = LuaScript.load("node-id-acquire");
    private static final LuaScript RENEW = LuaScript.load("node-id-renew");
    private static final LuaScript RELEASE = LuaScript.load("compare-and-delete");

    private final RedisStore redis;

    public NodeIdRepository(RedisStore redis) {
        this.redis = redis;
    }

    /**
     * What acquiring an id came to: taken (with the high-water mark the new holder must start
     * above), or refused (with the other holder's {@code logicId|token}).
     */
    public record Acquired(boolean taken, long highWaterMillis, String holder) {
    }

    /** @param restart also take the id over from a holder with the same {@code logicId} (this node before a crash) */
    public CompletableFuture<Acquired> acquire(int nodeId, String logicId, String token, long ttlMillis, long nowMillis,
                                               boolean restart) {
        return ACQUIRE.<List<Object>>run(redis.async(), ScriptOutputType.MULTI,
                        new String[]{Keys.nodeIdLease(nodeId), Keys.nodeIdHighWater(nodeId)},
                        logicId, token, Long.toString(ttlMillis), Long.toString(nowMillis), restart ? "1" : "0")
                .thenApply(r -> ((Long) r.get(0)) == 1L
                        ? new Acquired(true, Long.parseLong((String) r.get(1)), null)
                        : new Acquired(false, 0, (String) r.get(1)));
    }

    /** @return false when the lease is no longer this holder's (expired or taken over) */
    public CompletableFuture<Boolean> renew(int nodeId, String logicId, String token, long ttlMillis, long nowMillis) {
        return RENEW.<Long>run(redis.async(), ScriptOutputType.INTEGER,
                        new String[]{Keys.nodeIdLease(nodeId), Keys.nodeIdHighWater(nodeId)},
                        logicId + '|' + token, Long.toString(ttlMillis), Long.toString(nowMillis))
                .thenApply(n -> n == 1L);
    }

    /** Frees the id if this holder still has it (the high-water mark stays). */
    public CompletableFuture<Void> release(int nodeId, String logicId, String token) {
        return RELEASE.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{Keys.nodeIdLease(nodeId)},
                logicId + '|' + token).thenApply(x -> null);
    }
}
