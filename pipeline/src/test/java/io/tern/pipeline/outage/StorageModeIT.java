package io.tern.pipeline.outage;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.RedisServer;
import io.tern.store.redis.RedisOutage;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The storage mode follows a real redis-server that is killed and restarted. */
class StorageModeIT {
    private RedisServer redis;
    private RedisStore store;
    private StorageMode mode;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<StorageMode.Mode> seen = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        redis = RedisServer.start(RedisServer.Options.defaults());
        store = RedisStore.connect(redis.uri(), Duration.ofMillis(500), Duration.ofMillis(100));
        mode = StorageMode.follow(RedisOutage.watch(store, Duration.ofMillis(500), Duration.ofMillis(50),
                System::currentTimeMillis, "test"), Duration.ofMillis(200), registry, "test");
        mode.onChange(seen::add);
    }

    @AfterEach
    void stop() {
        mode.close();
        store.close();
        redis.close();
    }

    @Test
    void aSilentRedisIsAnOutageAndItsAnswerReconcilesBeforeNormal() {
        AtomicInteger reconciled = new AtomicInteger();
        mode.reconcileWith(() -> {
            reconciled.incrementAndGet();
            return CompletableFuture.completedFuture(null);
        });
        assertTrue(mode.normal());
        redis.kill();
        await().atMost(Duration.ofSeconds(30)).until(() -> mode.mode() == StorageMode.Mode.OUTAGE);
        assertEquals(1.0, registry.get("tern.storage.mode").gauge().value());
        assertEquals(0, reconciled.get(), "nothing reconciled while Redis is silent");
        redis.restart();
        await().atMost(Duration.ofSeconds(30)).until(mode::normal);
        assertEquals(1, reconciled.get());
        assertEquals(List.of(StorageMode.Mode.OUTAGE, StorageMode.Mode.RECONCILING, StorageMode.Mode.NORMAL), seen);
        assertEquals(1.0, registry.get("tern.storage.reconciliations").counter().count());
    }

    @Test
    void aFailingReconcilerKeepsTheModeReconcilingAndRunsAgainUntilItSucceeds() {
        AtomicInteger attempts = new AtomicInteger();
        mode.reconcileWith(() -> attempts.incrementAndGet() < 3
                ? CompletableFuture.failedFuture(new IllegalStateException("disk KV away"))
                : CompletableFuture.completedFuture(null));
        redis.kill();
        await().atMost(Duration.ofSeconds(30)).until(() -> mode.mode() == StorageMode.Mode.OUTAGE);
        redis.restart();
        await().atMost(Duration.ofSeconds(30)).until(() -> attempts.get() >= 1);
        await().atMost(Duration.ofSeconds(30)).until(mode::normal);
        assertEquals(3, attempts.get(), "two failures, each run again, then done");
        assertEquals(List.of(StorageMode.Mode.OUTAGE, StorageMode.Mode.RECONCILING, StorageMode.Mode.NORMAL), seen);
    }
}
