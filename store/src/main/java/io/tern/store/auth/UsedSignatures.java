package io.tern.store.auth;

import io.lettuce.core.SetArgs;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Signed requests already used, so one cannot be replayed while its timestamp is still inside the
 * accepted window: the first use claims the (appId, timestamp, sign) key with SET NX, which expires
 * once the timestamp is outside the window anyway.
 */
public final class UsedSignatures {
    private final RedisStore redis;

    public UsedSignatures(RedisStore redis) {
        this.redis = redis;
    }

    /**
     * @param window how long the signature stays acceptable (the whole ±skew span); the key lives that long
     * @return true the first time this signature is presented, false for every later time within {@code window}
     */
    public CompletableFuture<Boolean> claim(String appId, long timestamp, String sign, Duration window) {
        return redis.async()
                .set(Keys.usedSignature(appId, timestamp, sign), "", SetArgs.Builder.nx().px(window.toMillis()))
                .toCompletableFuture()
                .thenApply("OK"::equals);
    }
}
