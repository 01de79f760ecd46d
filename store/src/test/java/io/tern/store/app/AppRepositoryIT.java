package io.tern.store.app;

import io.tern.store.Keys;
import io.tern.store.TestRedis;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stored apps against a real Redis: creation refuses a taken id and a full hash, a secret rotation keeps the
 * client key and refuses a stale read, a read skips bad entries and refuses a hash beyond its bound. The apps hash is
 * global, so this class has a Redis database of its own and empties it before each test.
 */
class AppRepositoryIT {
    private static final int DB = 4;
    private static RedisStore redis;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(DB), Duration.ofSeconds(2));
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    @BeforeEach
    void empty() {
        redis.async().flushdb().toCompletableFuture().join();
    }

    @Test
    void aCreatedAppIsReadBackWithItsClientKeyAndATakenIdOrAFullHashIsRefused() {
        AppRepository repo = new AppRepository(redis, 2);
        assertEquals(AppRepository.Created.CREATED, repo.create("a1", "key-a1", "secret-a1", "client-a1", 1_000).join());
        assertEquals(AppRepository.Created.EXISTS, repo.create("a1", "key-x", "secret-x", "client-x", 2_000).join());
        assertEquals(AppRepository.Created.CREATED, repo.create("a2", "key-a2", "secret-a2", "client-a2", 2_000).join());
        assertEquals(AppRepository.Created.FULL, repo.create("a3", "key-a3", "secret-a3", "client-a3", 3_000).join());

        Map<String, StoredApp> apps = repo.apps().join();
        assertEquals(java.util.List.of("a1", "a2"), java.util.List.copyOf(apps.keySet()));
        StoredApp a1 = apps.get("a1");
        assertEquals("key-a1", a1.appKey());
        assertEquals("secret-a1", a1.appSecret());
        assertEquals("client-a1", a1.clientKey());
        assertEquals(1_000, a1.createdAtMillis());
        assertEquals(1_000, a1.secretRotatedAtMillis());
    }

    @Test
    void rotatingTheSecretKeepsTheClientKeyAndAStaleReadIsRefused() {
        AppRepository repo = new AppRepository(redis, 10);
        repo.create("r1", "key-r1", "secret-0", "client-r1", 1_000).join();
        StoredApp before = repo.apps().join().get("r1");

        assertTrue(repo.rotateSecret(before, "secret-1", 2_000).join());
        assertFalse(repo.rotateSecret(before, "secret-2", 3_000).join(), "a rotation from a stale read");

        StoredApp after = repo.apps().join().get("r1");
        assertEquals("secret-1", after.appSecret());
        assertEquals("client-r1", after.clientKey(), "the client key ships inside the app: a rotation keeps it");
        assertEquals(1_000, after.createdAtMillis());
        assertEquals(2_000, after.secretRotatedAtMillis());
    }

    @Test
    void anEntryWithoutAClientKeyIsReadAndABrokenOneIsSkipped() {
        redis.async().hset(Keys.apps(), Map.of(
                "old", "{\"appKey\":\"key-old\",\"appSecret\":\"secret-old\",\"createdAt\":5,\"secretRotatedAt\":5}",
                "broken", "not json",
                "keyless", "{\"appSecret\":\"secret-k\"}")).toCompletableFuture().join();

        Map<String, StoredApp> apps = new AppRepository(redis, 10).apps().join();
        assertEquals(java.util.Set.of("old"), apps.keySet());
        assertNull(apps.get("old").clientKey(), "an app stored before client keys registers no device");
        assertEquals("secret-old", apps.get("old").appSecret());
    }

    @Test
    void aReadOfMoreAppsThanItsBoundFailsNamingTheCount() {
        AppRepository writer = new AppRepository(redis, 10);
        for (int i = 0; i < 3; i++) {
            writer.create("b" + i, "key-b" + i, "secret-b" + i, "client-b" + i, 1_000).join();
        }
        assertEquals(3, new AppRepository(redis, 3).apps().join().size());
        CompletionException e = assertThrows(CompletionException.class, () -> new AppRepository(redis, 2).apps().join());
        assertTrue(e.getCause().getMessage().contains("holds 3 apps, more than the 2"), e.getCause().getMessage());
    }
}
