package io.tern.store.callback;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ZAddArgs;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Receipts whose callback is not posted yet, held in Redis so no logic node's death loses them. A receipt is
 * parked by the script run that records its ack ({@code AckRepository.applyAll}, leased to the node applying it),
 * so before its ack's Kafka offset is committed; its lease is pushed out while that node posts it, and it is
 * removed once posted or given up on. A receipt whose lease ran out (its node died, or gave it back) is
 * {@link #claim claimed} by any node. Bounded: an ack whose receipt would not fit is not applied
 * ({@link FullException}).
 */
public final class CallbackOutbox {
    private static final LuaScript CLAIM = LuaScript.of("""
            local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
            local out = {}
            for _, id in ipairs(ids) do
              local v = redis.call('HGET', KEYS[2], id)
              if v then
                redis.call('ZADD', KEYS[1], ARGV[2], id)
                table.insert(out, v)
              else
                redis.call('ZREM', KEYS[1], id)
              end
            end
            return out
            """);
    private static final LuaScript REMOVE = LuaScript.of("""
            for i = 1, #ARGV do
              redis.call('ZREM', KEYS[1], ARGV[i])
              redis.call('HDEL', KEYS[2], ARGV[i])
            end
            return #ARGV
            """);

    /** The outbox is full: the acks were not applied; try again later (backpressure into Kafka). */
    public static final class FullException extends RuntimeException {
        public FullException(int max) {
            super("callback outbox holds its maximum of " + max + " receipts");
        }
    }

    private final RedisStore redis;
    private final String[] keys = {Keys.callbacksDue(), Keys.callbackItems()};

    public CallbackOutbox(RedisStore redis) {
        this.redis = redis;
    }

    /** Takes up to {@code max} receipts due by {@code nowMillis}, leasing them until {@code leaseUntilMillis}. */
    public CompletableFuture<List<ParkedReceipt>> claim(long nowMillis, long leaseUntilMillis, int max) {
        return CLAIM.<List<String>>run(redis.async(), ScriptOutputType.MULTI, keys, Long.toString(nowMillis),
                Long.toString(leaseUntilMillis), Integer.toString(max)).thenApply(values -> {
            List<ParkedReceipt> out = new ArrayList<>(values.size());
            for (String v : values) {
                out.add(ParkedReceipt.decode(v));
            }
            return out;
        });
    }

    /** Moves the due time of receipts still held (a lease renewed, or given back with {@code dueMillis} now). */
    public CompletableFuture<Void> reschedule(List<String> ids, long dueMillis) {
        if (ids.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Object[] scoredIds = new Object[ids.size() * 2];
        for (int i = 0; i < ids.size(); i++) {
            scoredIds[2 * i] = (double) dueMillis;
            scoredIds[2 * i + 1] = ids.get(i);
        }
        return redis.async().zadd(keys[0], ZAddArgs.Builder.xx(), scoredIds).toCompletableFuture().thenAccept(n -> { });
    }

    /** Forgets receipts whose callback is done (posted or given up on). */
    public CompletableFuture<Void> remove(List<String> ids) {
        if (ids.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return REMOVE.<Long>run(redis.async(), ScriptOutputType.INTEGER, keys, ids.toArray(String[]::new))
                .thenAccept(n -> { });
    }

    /** Receipts held now. */
    public CompletableFuture<Long> size() {
        return redis.async().zcard(keys[0]).toCompletableFuture();
    }
}
