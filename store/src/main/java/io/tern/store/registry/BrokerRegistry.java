package io.tern.store.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Broker liveness: one key per broker with a short TTL, refreshed by the broker itself. A
 * broker whose key expired is dead, and routes pointing at it mean "offline".
 */
public final class BrokerRegistry {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Ids not heard from for this long are pruned from the index. */
    private static final Duration PRUNE_AFTER = Duration.ofHours(1);

    private final RedisStore redis;

    public BrokerRegistry(RedisStore redis) {
        this.redis = redis;
    }

    public CompletableFuture<Void> heartbeat(BrokerInfo info, Duration ttl, long nowMillis) {
        String json;
        try {
            json = JSON.writeValueAsString(info);
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
        var async = redis.async();
        var set = async.set(Keys.broker(info.id()), json, SetArgs.Builder.px(ttl.toMillis())).toCompletableFuture();
        var index = async.zadd(Keys.brokers(), (double) nowMillis, info.id()).toCompletableFuture();
        var prune = async.zremrangebyscore(Keys.brokers(),
                Range.create(0d, (double) (nowMillis - PRUNE_AFTER.toMillis()))).toCompletableFuture();
        return CompletableFuture.allOf(set, index, prune);
    }

    public CompletableFuture<Void> deregister(String brokerId) {
        var async = redis.async();
        return CompletableFuture.allOf(async.del(Keys.broker(brokerId)).toCompletableFuture(),
                async.zrem(Keys.brokers(), brokerId).toCompletableFuture());
    }

    /** @return the broker if its liveness key is present (read now, not from a snapshot), else null */
    public CompletableFuture<BrokerInfo> find(String brokerId) {
        return redis.async().get(Keys.broker(brokerId)).toCompletableFuture().thenApply(json -> {
            if (json == null) {
                return null;
            }
            try {
                return JSON.readValue(json, BrokerInfo.class);
            } catch (JsonProcessingException e) {
                return null; // malformed: expires with its TTL
            }
        });
    }

    /** Every broker whose liveness key is present. */
    public CompletableFuture<List<BrokerInfo>> live() {
        var async = redis.async();
        return async.zrange(Keys.brokers(), 0, -1).toCompletableFuture().thenCompose(ids -> {
            if (ids.isEmpty()) {
                return CompletableFuture.completedFuture(List.<BrokerInfo>of());
            }
            String[] keys = ids.stream().map(Keys::broker).toArray(String[]::new);
            return async.mget(keys).toCompletableFuture().thenApply(kvs -> {
                List<BrokerInfo> out = new ArrayList<>(kvs.size());
                for (var kv : kvs) {
                    if (kv.hasValue()) {
                        try {
                            out.add(JSON.readValue(kv.getValue(), BrokerInfo.class));
                        } catch (JsonProcessingException e) {
                            // A malformed entry is skipped: it expires with its TTL.
                        }
                    }
                }
                return out;
            });
        });
    }
}
