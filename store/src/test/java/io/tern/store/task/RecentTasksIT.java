package io.tern.store.task;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The recent-tasks index the SRE console reads, on a real Redis: newest first, bounded, gone tasks skipped. */
class RecentTasksIT {
    private static final AtomicLong IDS = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));
    private static final long NOW = System.currentTimeMillis();
    private static RedisStore redis;
    private static TaskRepository tasks;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(5));
        tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(1)));
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    /** Created "later" than any other test's task, so it is among the newest whatever else shares this Redis. */
    private static CompletableFuture<Long> create(long createdAt) {
        long id = IDS.incrementAndGet();
        return tasks.create(new TaskBody(id, "app", PayloadKind.NOTIFICATION, "{}", createdAt, NOW + 3_600_000, null,
                null, 0), TaskState.CREATED).thenApply(x -> id);
    }

    @Test
    void recentListsTheNewestFirstWithTheirCountersAndSkipsTasksNoLongerStored() {
        long later = NOW + 10_000_000_000L;
        long older = create(later).join();
        long gone = create(later + 1).join();
        long newest = create(later + 2).join();
        tasks.increment(newest, java.util.Map.of(TaskCounter.TARGETED, 3L, TaskCounter.SENT, 2L)).join();
        redis.async().del(Keys.task(gone)).toCompletableFuture().join();

        List<StoredTask> recent = tasks.recent(3).join();
        assertEquals(List.of(newest, older), recent.stream().map(t -> t.body().taskId()).toList(),
                "the deleted task's id is still indexed but not listed");
        assertEquals(3L, recent.get(0).counter(TaskCounter.TARGETED));
        assertEquals(2L, recent.get(0).counter(TaskCounter.SENT));
    }

    @Test
    void theIndexKeepsAtMostRecentKeptTasks() {
        long later = NOW + 20_000_000_000L;
        CompletableFuture.allOf(LongStream.range(0, TaskRepository.RECENT_KEPT + 5)
                .mapToObj(i -> create(later + i)).toArray(CompletableFuture[]::new)).join();
        assertEquals(TaskRepository.RECENT_KEPT, redis.async().zcard(Keys.recentTasks()).toCompletableFuture().join());
    }

    @Test
    void aLimitOutsideTheIndexIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> tasks.recent(0));
        assertThrows(IllegalArgumentException.class, () -> tasks.recent(TaskRepository.RECENT_KEPT + 1));
    }
}
