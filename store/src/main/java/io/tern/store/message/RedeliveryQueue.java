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
 * The single pushes due for a delivery check ({@link Keys#redeliveryDue}, {@value Keys#REDELIVERY_SHARDS} shards
 * by msgId, each its own slot): put there by the accept,
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
     * What one sweep saw: the checks waiting or claimed over all shards before it (for the backlog gauge), and those
     * it claimed.
     */
    public record Sweep(long size, List<Claim> claims) { }

    /**
     * Reads every shard's size (one flush), then claims up to {@code limit} due checks from the shards that hold any,
     * each for {@code lease}, dropping those past {@code maxAttempts} (returned as given up): an idle sweep is
     * {@value Keys#REDELIVERY_SHARDS} ZCARDs instead of as many more script runs. An entry added to a shard after its
     * size was read is claimed by the next sweep. Whether a claimed message still needs delivering is the caller's to
     * read.
     */
    public CompletableFuture<Sweep> sweep(long nowMillis, Duration lease, int limit, int maxAttempts) {
        List<CompletableFuture<Long>> sizes = shardSizes();
        return CompletableFuture.allOf(sizes.toArray(CompletableFuture[]::new)).thenCompose(x -> {
            long total = 0;
            List<Integer> held = new ArrayList<>();
            for (int shard = 0; shard < Keys.REDELIVERY_SHARDS; shard++) {
                long n = sizes.get(shard).join();
                total += n;
                if (n > 0) {
                    held.add(shard);
                }
            }
            long size = total;
            return claim(nowMillis, lease, limit, maxAttempts, held).thenApply(claims -> new Sweep(size, claims));
        });
    }

    /** The claim script on each shard of {@code from}, {@code limit} spread over them, all in one flush. */
    private CompletableFuture<List<Claim>> claim(long nowMillis, Duration lease, int limit, int maxAttempts,
                                                 List<Integer> from) {
        int perShard = Math.max(1, (limit + Keys.REDELIVERY_SHARDS - 1) / Keys.REDELIVERY_SHARDS);
        var async = redis.async();
        List<CompletableFuture<List<Object>>> shards = new ArrayList<>(from.size());
        for (int shard : from) {
            shards.add(CLAIM.run(async, ScriptOutputType.MULTI,
                    new String[]{Keys.redeliveryDue(shard), Keys.redeliveryTries(shard)},
                    Long.toString(nowMillis), Long.toString(lease.toMillis()), Integer.toString(perShard),
                    Integer.toString(maxAttempts)));
        }
        return CompletableFuture.allOf(shards.toArray(CompletableFuture[]::new)).thenApply(x -> {
            List<Claim> out = new ArrayList<>();
            for (CompletableFuture<List<Object>> shard : shards) {
                List<Object> flat = shard.join();
                for (int i = 0; i + 1 < flat.size(); i += 2) {
                    out.add(new Claim(Long.parseLong((String) flat.get(i)), ((Long) flat.get(i + 1)).intValue()));
                }
            }
            return out;
        });
    }

    /** Moves a check that is still there (not yet marked sent) to {@code dueAtMillis}. */
    public CompletableFuture<Void> retryAt(long msgId, long dueAtMillis) {
        return redis.async().zadd(Keys.redeliveryDue(Keys.redeliveryShard(msgId)), ZAddArgs.Builder.xx(),
                (double) dueAtMillis, Long.toString(msgId)).toCompletableFuture().thenApply(n -> null);
    }

    /** Drops the check: the message waits for its device's reconnect (or needs nothing more). */
    public CompletableFuture<Void> drop(long msgId) {
        int shard = Keys.redeliveryShard(msgId);
        var async = redis.async();
        var due = async.zrem(Keys.redeliveryDue(shard), Long.toString(msgId)).toCompletableFuture();
        var tries = async.hdel(Keys.redeliveryTries(shard), Long.toString(msgId)).toCompletableFuture();
        return CompletableFuture.allOf(due, tries);
    }

    private List<CompletableFuture<Long>> shardSizes() {
        var async = redis.async();
        List<CompletableFuture<Long>> shards = new ArrayList<>(Keys.REDELIVERY_SHARDS);
        for (int shard = 0; shard < Keys.REDELIVERY_SHARDS; shard++) {
            shards.add(async.zcard(Keys.redeliveryDue(shard)).toCompletableFuture());
        }
        return shards;
    }
}
