package io.tern.store.idempotency;

import io.lettuce.core.SetArgs;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Request-level idempotency for calls whose answer is more than an id (e.g. a list push): the
 * first call claims the requestId, later calls get the recorded answer back.
 */
public final class IdempotencyRepository {
    private static final String IN_PROGRESS = "";

    /** Outcome of a claim: {@code first} → go ahead and record; else {@code answer} (null while the first is still running). */
    public record Claim(boolean first, String answer) {
    }

    private final RedisStore redis;
    private final Duration window;

    public IdempotencyRepository(RedisStore redis, Duration window) {
        this.redis = redis;
        this.window = window;
    }

    public CompletableFuture<Claim> claim(String appId, String scope, String requestId) {
        String key = Keys.idempotency(appId, scope + ':' + requestId);
        var async = redis.async();
        return async.set(key, IN_PROGRESS, SetArgs.Builder.nx().px(window.toMillis())).toCompletableFuture()
                .thenCompose(ok -> "OK".equals(ok)
                        ? CompletableFuture.completedFuture(new Claim(true, null))
                        : async.get(key).toCompletableFuture()
                        .thenApply(v -> new Claim(false, v == null || v.isEmpty() ? null : v)));
    }

    public CompletableFuture<Void> record(String appId, String scope, String requestId, String answer) {
        return redis.async().set(Keys.idempotency(appId, scope + ':' + requestId), answer,
                SetArgs.Builder.px(window.toMillis())).toCompletableFuture().thenApply(x -> null);
    }

    /** Releases a claim whose call failed, so a retry can run. */
    public CompletableFuture<Void> release(String appId, String scope, String requestId) {
        return redis.async().del(Keys.idempotency(appId, scope + ':' + requestId)).toCompletableFuture()
                .thenApply(x -> null);
    }
}
