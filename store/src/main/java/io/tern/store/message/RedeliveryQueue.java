package io.tern.store.message;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ZAddArgs;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The single pushes due for a delivery check ({@link Keys#redeliveryDue()}): put there by the accept,
 * taken out when marked sent. Any logic node's sweeper claims due entries under a lease, so two nodes
 * never work on one at once and a dead node's claims come due again.
 */
public final class RedeliveryQueue {
    private static final LuaScript CLAIM = LuaScript.load("redelivery-claim");

    /**
     * A claimed check.
     *
     * @param attempt 1 for the first redelivery; {@link #GAVE_UP} when it was past its last attempt and was dropped
     */
    public record Claim(long msgId, int attempt) {
        public static final int GAVE_UP = -1;

        public boolean gaveUp() {
            return attempt == GAVE_UP;
        }
    }

    private final RedisStore redis;

    public RedeliveryQueue(RedisStore redis) {
        this.redis = redis;
    }

    /**
     * Claims up to {@code limit} due checks, each for {@code lease}; drops those whose message no longer needs
     * one, and those past {@code maxAttempts} (returned as given up).
     */
    public CompletableFuture<List<Claim>> claim(long nowMillis, Duration lease, int limit, int maxAttempts) {
        return CLAIM.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, new String[]{Keys.redeliveryDue()},
                Long.toString(nowMillis), Long.toString(lease.toMillis()), Integer.toString(limit),
                Integer.toString(maxAttempts)).thenApply(flat -> {
                    List<Claim> out = new ArrayList<>(flat.size() / 2);
                    for (int i = 0; i + 1 < flat.size(); i += 2) {
                        out.add(new Claim(Long.parseLong((String) flat.get(i)), ((Long) flat.get(i + 1)).intValue()));
                    }
                    return out;
                });
    }

    /** Moves a check that is still there (not yet marked sent) to {@code dueAtMillis}. */
    public CompletableFuture<Void> retryAt(long msgId, long dueAtMillis) {
        return redis.async().zadd(Keys.redeliveryDue(), ZAddArgs.Builder.xx(), (double) dueAtMillis,
                Long.toString(msgId)).toCompletableFuture().thenApply(n -> null);
    }

    /** Drops the check: the message waits for its device's reconnect (or needs nothing more). */
    public CompletableFuture<Void> drop(long msgId) {
        return redis.async().zrem(Keys.redeliveryDue(), Long.toString(msgId)).toCompletableFuture().thenApply(n -> null);
    }

    /** Checks waiting or claimed, for the backlog gauge. */
    public CompletableFuture<Long> size() {
        return redis.async().zcard(Keys.redeliveryDue()).toCompletableFuture();
    }
}
