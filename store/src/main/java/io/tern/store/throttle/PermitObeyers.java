package io.tern.store.throttle;

import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;

import java.util.concurrent.CompletableFuture;

/**
 * Who takes a share of the permit: a sorted set of obeyer ids scored by when each registration expires. An
 * obeyer refreshes itself well within its TTL; one that stopped (killed, partitioned) drops out when its score
 * passes, so the others' shares grow back without anyone deregistering it.
 */
public final class PermitObeyers {
    // Refresh, prune and count in one round trip, so the count always includes the caller.
    private static final String REFRESH = "redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3]) "
            + "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1]) "
            + "redis.call('PEXPIRE', KEYS[1], ARGV[4]) "
            + "return redis.call('ZCARD', KEYS[1])";

    private final RedisStore redis;

    public PermitObeyers(RedisStore redis) {
        this.redis = redis;
    }

    /**
     * Registers (or refreshes) {@code obeyerId} until {@code nowMillis + ttlMillis}, drops expired obeyers.
     *
     * @return the live obeyers, this one included
     */
    public CompletableFuture<Long> refresh(String obeyerId, long nowMillis, long ttlMillis) {
        return redis.async().<Long>eval(REFRESH, ScriptOutputType.INTEGER, new String[]{Keys.permitObeyers()},
                        Long.toString(nowMillis), Long.toString(nowMillis + ttlMillis), obeyerId,
                        Long.toString(Math.max(ttlMillis * 4, 60_000)))
                .toCompletableFuture();
    }

    /** Live obeyers at {@code nowMillis} (for tools and the controller; expired ones are not counted). */
    public CompletableFuture<Long> live(long nowMillis) {
        return redis.async().zcount(Keys.permitObeyers(), Range.create((double) nowMillis, Double.POSITIVE_INFINITY))
                .toCompletableFuture();
    }

    /** Leaves at once (clean shutdown), so the others need not wait for this registration to expire. */
    public CompletableFuture<Void> leave(String obeyerId) {
        return redis.async().zrem(Keys.permitObeyers(), obeyerId).toCompletableFuture().thenApply(x -> null);
    }
}
