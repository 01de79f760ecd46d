package io.tern.logic.apps;

import io.tern.devstack.SharedInfra;
import io.tern.logic.auth.AppCredentials;
import io.tern.logic.limits.LimitsConfig;
import io.tern.store.app.AppRepository;
import io.tern.store.app.StoredApp;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two logic nodes' app directories on one real Redis: what one node's admin API stores, the other serves within its
 * refresh, and a limits change reaches the other node's limits; configured credentials are never shadowed.
 */
class AppDirectoryIT {
    private static final Duration REFRESH = Duration.ofMillis(100);
    private static RedisStore redis;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
    }

    @AfterAll
    static void close() {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void whatOneNodeStoresTheOtherServesWithinItsRefresh() {
        String appId = "dir-" + UUID.randomUUID().toString().substring(0, 8);
        AppRegistry registry = new AppRegistry(redis, 10_000);
        List<String> changed = new CopyOnWriteArrayList<>();
        try (AppDirectory other = new AppDirectory(Map.of(), LimitsConfig.defaults(), registry, REFRESH, Duration.ofSeconds(2), "other")
                .onLimitsChanged(changed::add).start()) {
            assertNull(other.credentials(appId));

            assertEquals(AppRepository.Created.CREATED,
                    registry.create(new AppCredentials(appId, "key-" + appId, "secret-0123456789"), "client-" + appId, 1_000).join());
            await().atMost(Duration.ofSeconds(5)).until(() -> other.credentials(appId) != null);
            assertEquals("secret-0123456789", other.secret(appId));
            assertEquals(LimitsConfig.DEFAULT_RATE, other.limit(appId).rate());

            registry.setLimits(appId, new LimitsConfig.AppLimit(7, 70)).join();
            await().atMost(Duration.ofSeconds(5)).until(() -> changed.contains(appId));
            assertEquals(new LimitsConfig.AppLimit(7, 70), other.limit(appId));
            assertEquals("admin", other.limitSource(appId));

            StoredApp before = other.stored(appId);
            assertTrue(registry.rotate(before, "rotated-0123456789", 2_000).join());
            assertFalse(registry.rotate(before, "stale-0123456789", 3_000).join(), "a rotation from a stale read is refused");
            await().atMost(Duration.ofSeconds(5)).until(() -> "rotated-0123456789".equals(other.secret(appId)));
        }
    }

    @Test
    void aConfiguredAppIsNeverShadowedByAStoredOne() {
        String appId = "dir-" + UUID.randomUUID().toString().substring(0, 8);
        AppRegistry registry = new AppRegistry(redis, 10_000);
        registry.create(new AppCredentials(appId, "stored-key", "stored-secret-0123"), "stored-client", 1_000).join();
        try (AppDirectory node = new AppDirectory(Map.of(appId, new AppCredentials(appId, "cfg-key", "cfg-secret-0123")),
                LimitsConfig.defaults(), registry, REFRESH, Duration.ofSeconds(2), "node").start()) {
            assertEquals("cfg-key", node.credentials(appId).appKey());
            assertEquals(AppRepository.Created.EXISTS,
                    registry.create(new AppCredentials(appId, "again-key", "again-secret-0123"), "again-client", 2_000).join());
        }
    }
}
