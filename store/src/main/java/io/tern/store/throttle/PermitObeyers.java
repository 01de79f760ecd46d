package io.tern.store.throttle;

import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Who takes a share of the permit, and how large: a sorted set of obeyer ids scored by when each registration
 * expires, and each one's weight. An obeyer refreshes itself well within its TTL; one that stopped (killed,
 * partitioned) drops out when its score passes, so the others' shares grow back without anyone deregistering it.
 * An obeyer's share is the permit times its weight over the live obeyers' sum: a busy obeyer weighs
 * {@value #BUSY}, an idle one {@value #IDLE}, so the permit goes where the work is (an idle logic node leaves it
 * to the bypass consumers draining a backlog) and an idle obeyer still has a little at once when work comes.
 * An obeyer without a weight (a node of an older version) counts as busy: the split it assumed was equal.
 */
public final class PermitObeyers {
    public static final int BUSY = 1000;
    public static final int IDLE = 50;
    // Refresh, prune and sum in one round trip, so the sum always includes the caller.
    private static final String REFRESH = """
            redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
            redis.call('HSET', KEYS[2], ARGV[3], ARGV[5])
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
            redis.call('PEXPIRE', KEYS[2], ARGV[4])
            local live = {}
            for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
              live[id] = true
            end
            local sum, count = 0, 0
            for id in pairs(live) do
              sum = sum + (tonumber(redis.call('HGET', KEYS[2], id)) or %d)
              count = count + 1
            end
            -- Weights of obeyers no longer live (expired, or pruned by an older node's script) go too.
            for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do
              if not live[id] then
                redis.call('HDEL', KEYS[2], id)
              end
            end
            return {count, sum}
            """.formatted(BUSY);

    /** The live obeyers as one refresh saw them: how many, and their weights summed (this one's included). */
    public record Live(long count, long weightSum) {
    }

    private final RedisStore redis;

    public PermitObeyers(RedisStore redis) {
        this.redis = redis;
    }

    /**
     * Registers (or refreshes) {@code obeyerId} with {@code weight} until {@code nowMillis + ttlMillis}, drops
     * expired obeyers.
     */
    public CompletableFuture<Live> refresh(String obeyerId, long nowMillis, long ttlMillis, int weight) {
        if (weight < 1 || weight > BUSY) {
            throw new IllegalArgumentException("weight must be in [1, " + BUSY + "], got " + weight);
        }
        return redis.async().<List<Long>>eval(REFRESH, ScriptOutputType.MULTI,
                        new String[]{Keys.permitObeyers(), Keys.permitObeyerWeights()},
                        Long.toString(nowMillis), Long.toString(nowMillis + ttlMillis), obeyerId,
                        Long.toString(Math.max(ttlMillis * 4, 60_000)), Integer.toString(weight))
                .toCompletableFuture().thenApply(r -> new Live(r.get(0), r.get(1)));
    }

    /** Live obeyers at {@code nowMillis} (for tools and the controller; expired ones are not counted). */
    public CompletableFuture<Long> live(long nowMillis) {
        return redis.async().zcount(Keys.permitObeyers(), Range.create((double) nowMillis, Double.POSITIVE_INFINITY))
                .toCompletableFuture();
    }

    /** Leaves at once (clean shutdown), so the others need not wait for this registration to expire. */
    public CompletableFuture<Void> leave(String obeyerId) {
        return redis.async().zrem(Keys.permitObeyers(), obeyerId).toCompletableFuture()
                .thenCompose(x -> redis.async().hdel(Keys.permitObeyerWeights(), obeyerId).toCompletableFuture())
                .thenApply(x -> null);
    }
}
