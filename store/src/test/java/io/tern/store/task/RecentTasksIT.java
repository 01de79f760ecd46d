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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The recent-tasks index the SRE console reads, on a real Redis: newest first, bounded as configured, gone tasks skipped. */
class RecentTasksIT {
    private static final AtomicLong IDS = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));
    private static final long NOW = System.currentTimeMillis();
    private static final QueuePolicy POLICY = new QueuePolicy(100, Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(1));
    /** Each test's tasks are created "later" than any task before, so they are the newest whatever ran first. */
    private static final AtomicLong LATER = new AtomicLong(NOW + 10_000_000_000L);
    private static RedisStore redis;
    private static TaskRepository tasks;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(5));
        tasks = new TaskRepository(redis, POLICY);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static long later() {
        return LATER.addAndGet(1_000_000_000L);
    }

    /** Created at {@code createdAt}, in the future of any other test's task, so among the newest in a shared Redis. */
    private static CompletableFuture<Long> create(TaskRepository repository, long createdAt) {
        long id = IDS.incrementAndGet();
        return repository.create(new TaskBody(id, "app", PayloadKind.NOTIFICATION, "{}", createdAt, NOW + 3_600_000,
                null, null, 0), TaskState.CREATED).thenApply(x -> id);
    }

    @Test
    void recentListsTheNewestFirstWithTheirCountersAndSkipsTasksNoLongerStored() {
        long later = later();
        long older = create(tasks, later).join();
        long gone = create(tasks, later + 1).join();
        long newest = create(tasks, later + 2).join();
        tasks.increment(newest, java.util.Map.of(TaskCounter.TARGETED, 3L, TaskCounter.SENT, 2L)).join();
        redis.async().del(Keys.task(gone)).toCompletableFuture().join();

        List<StoredTask> recent = tasks.recent(3).join();
        assertEquals(List.of(newest, older), recent.stream().map(t -> t.body().taskId()).toList(),
                "the deleted task's id is still indexed but not listed");
        assertEquals(3L, recent.get(0).counter(TaskCounter.TARGETED));
        assertEquals(2L, recent.get(0).counter(TaskCounter.SENT));
    }

    @Test
    void theIndexKeepsTheConfiguredNumberOfNewestTasks() {
        TaskRepository keepsSeven = new TaskRepository(redis, POLICY, 7);
        long later = later();
        List<Long> ids = LongStream.range(0, 10).mapToObj(i -> create(keepsSeven, later + i).join()).toList();
        assertEquals(7, redis.async().zcard(Keys.recentTasks()).toCompletableFuture().join());
        List<Long> newestFirst = new ArrayList<>(ids.subList(3, 10));
        Collections.reverse(newestFirst);
        assertEquals(newestFirst, keepsSeven.recent(7).join().stream().map(t -> t.body().taskId()).toList(), "the three oldest went");
    }

    @Test
    void byDefaultTheIndexKeepsAThousand() {
        assertEquals(1000, tasks.recentKept());
        long later = later();
        CompletableFuture.allOf(LongStream.range(0, TaskRepository.DEFAULT_RECENT_KEPT + 5)
                .mapToObj(i -> create(tasks, later + i)).toArray(CompletableFuture[]::new)).join();
        assertEquals(TaskRepository.DEFAULT_RECENT_KEPT, redis.async().zcard(Keys.recentTasks()).toCompletableFuture().join());
    }

    @Test
    void aLimitOutsideTheIndexOrABoundOutOfRangeIsRefused() {
        TaskRepository keepsSeven = new TaskRepository(redis, POLICY, 7);
        assertThrows(IllegalArgumentException.class, () -> keepsSeven.recent(0));
        assertThrows(IllegalArgumentException.class, () -> keepsSeven.recent(8));
        assertThrows(IllegalArgumentException.class, () -> new TaskRepository(redis, POLICY, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new TaskRepository(redis, POLICY, TaskRepository.MAX_RECENT_KEPT + 1));
    }
}
