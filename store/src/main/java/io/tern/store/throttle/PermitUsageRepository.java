package io.tern.store.throttle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;

/**
 * What the obeyers let through the permit ({@link Keys#permitUsage()}): each obeyer reports its gated
 * deliveries/s with an expiry; the controller sums the live reports into the platform's gated load, so that
 * downstream minus gated is the load the permit does not control.
 */
public final class PermitUsageRepository {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RedisStore redis;

    public PermitUsageRepository(RedisStore redis) {
        this.redis = redis;
    }

    /** An obeyer's report, e.g. every 500 ms with an expiry of a few seconds. */
    public CompletableFuture<Void> report(String obeyerId, PermitUsage usage) {
        return redis.async().hset(Keys.permitUsage(), obeyerId, DirectiveRepository.encode(usage)).toCompletableFuture()
                .thenApply(x -> null);
    }

    /** An obeyer stopping: its share stops counting at once. */
    public CompletableFuture<Void> withdraw(String obeyerId) {
        return redis.async().hdel(Keys.permitUsage(), obeyerId).toCompletableFuture().thenApply(x -> null);
    }

    /**
     * The sum of the reports live at {@code nowMillis}, or empty when no obeyer reports (the caller cannot tell
     * gated from ungated load). Expired and unreadable reports are removed.
     */
    public CompletableFuture<OptionalDouble> gatedPerSecond(long nowMillis) {
        var async = redis.async();
        return async.hgetall(Keys.permitUsage()).toCompletableFuture().thenApply(all -> {
            double sum = 0;
            int live = 0;
            List<String> dead = new ArrayList<>();
            for (Map.Entry<String, String> e : all.entrySet()) {
                PermitUsage u = read(e.getValue());
                if (u == null || u.untilMillis() <= nowMillis) {
                    dead.add(e.getKey());
                } else {
                    sum += u.gatedPerSecond();
                    live++;
                }
            }
            if (!dead.isEmpty()) {
                async.hdel(Keys.permitUsage(), dead.toArray(String[]::new));
            }
            return live == 0 ? OptionalDouble.empty() : OptionalDouble.of(sum);
        });
    }

    private static PermitUsage read(String json) {
        try {
            return JSON.readValue(json, PermitUsage.class);
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
