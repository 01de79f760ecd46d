package io.tern.store.redis;

import io.tern.store.TestRedis;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RedisStore#separateConnection} against a real Redis. */
class SeparateConnectionIT {

    @Test
    void aSeparateConnectionIsAnotherClientOfTheSameRedis() {
        try (RedisStore store = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(5));
             RedisStore separate = store.separateConnection()) {
            assertNotEquals(store.async().clientId().toCompletableFuture().join(),
                    separate.async().clientId().toCompletableFuture().join(), "its own connection");
            String key = "sep-" + UUID.randomUUID();
            separate.async().set(key, "v").toCompletableFuture().join();
            assertEquals("v", store.async().get(key).toCompletableFuture().join());
            store.async().del(key).toCompletableFuture().join();
        }
    }

    @Test
    void closingTheSeparateConnectionLeavesTheStoreWorking() {
        try (RedisStore store = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(5))) {
            store.separateConnection().close();
            assertTrue(store.isOpen());
            assertEquals("PONG", store.async().ping().toCompletableFuture().join());
        }
    }
}
