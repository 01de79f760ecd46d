package io.tern.store.task;

import io.tern.store.TestRedis;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tag resolution leases and takeovers on a real Redis: no task stays resolving for good. */
class TaskResolutionIT {
    private static final long NOW = System.currentTimeMillis();
    private static final AtomicLong IDS = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));
    private static RedisStore redis;
    private static TaskRepository tasks;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(5));
        tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(1)));
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static long task(long expiresAt) {
        long id = IDS.incrementAndGet();
        tasks.create(new TaskBody(id, "app", PayloadKind.DATA, "{}", NOW, expiresAt, null, null, 0), TaskState.CREATED).join();
        return id;
    }

    @Test
    void aResolutionWhoseOwnerStoppedIsTakenOverFromItsSavedCursorAndTheOldOwnerIsToldItLostIt() {
        long id = task(NOW + 3_600_000);
        assertEquals(TaskRepository.ResolveStart.STARTED, tasks.startResolving(id, "{\"type\":\"tag\"}", "a", NOW + 1_000).join());
        assertEquals(TaskRepository.ResolveStart.ALREADY_RESOLVING, tasks.startResolving(id, "{}", "b", NOW + 1_000).join());
        assertEquals(TaskRepository.Lease.HELD, tasks.renewResolving(id, "a", NOW + 1_000,
                new TaskRepository.ResolveProgress("red,vip", 1, "4711", 3)).join());
        assertEquals(TaskState.RESOLVING, tasks.find(id).join().state());

        assertNull(tasks.claimResolving(id, NOW + 500, "b", NOW + 2_000, 5).join().resumed(), "lease still running");
        TaskRepository.Claim c = tasks.claimResolving(id, NOW + 1_000, "b", NOW + 2_000, 5).join();
        assertEquals(new TaskRepository.Resumed("{\"type\":\"tag\"}", "red,vip", 1, "4711"), c.resumed());
        assertNull(tasks.claimResolving(id, NOW + 1_000, "c", NOW + 2_000, 5).join().resumed(), "one taker only");
        assertEquals(TaskRepository.Lease.LOST, tasks.renewResolving(id, "a", NOW + 3_000, null).join());
        assertTrue(tasks.finishResolving(id, "b", false, null).join());
        assertEquals(TaskState.SENDING, tasks.find(id).join().state());
        assertNull(redis.async().zscore(Keys.resolvingTasks(), Long.toString(id)).toCompletableFuture().join());
    }

    @Test
    void aResolutionTakenOverTooOftenFailsWithItsReason() {
        long id = task(NOW + 3_600_000);
        tasks.startResolving(id, "{}", "a", NOW).join();
        tasks.abandonResolving(id, "a", "resolution failed: boom", NOW).join();
        assertNotNull(tasks.claimResolving(id, NOW, "b", NOW, 1).join().resumed());
        TaskRepository.Claim c = tasks.claimResolving(id, NOW, "c", NOW, 1).join();
        assertNull(c.resumed());
        assertTrue(c.failedReason().contains("taken over 1 times") && c.failedReason().contains("boom"), c.failedReason());
        StoredTask t = tasks.find(id).join();
        assertEquals(TaskState.FAILED, t.state());
        assertEquals(c.failedReason(), t.reason());
    }

    @Test
    void aResolutionPastItsTaskTtlFailsInsteadOfResuming() {
        long id = task(NOW + 100);
        tasks.startResolving(id, "{}", "a", NOW).join();
        TaskRepository.Claim c = tasks.claimResolving(id, NOW + 200, "b", NOW + 1_000, 5).join();
        assertTrue(c.failedReason().startsWith("expired"), c.failedReason());
        assertEquals(TaskState.FAILED, tasks.find(id).join().state());
    }

    @Test
    void aRecalledResolutionStopsAndLeavesTheIndex() {
        long id = task(NOW + 3_600_000);
        tasks.startResolving(id, "{}", "a", NOW).join();
        tasks.recall(id, NOW).join();
        assertEquals(TaskRepository.Lease.ENDED, tasks.renewResolving(id, "a", NOW + 1_000, null).join());
        assertNull(redis.async().zscore(Keys.resolvingTasks(), Long.toString(id)).toCompletableFuture().join());
    }

    @Test
    void aJobMarkedDoneIsSkippedAndItsMarkExpiresWithTheTask() {
        long id = task(NOW + 3_600_000);
        assertEquals(false, tasks.jobDone(id, "0.0.0").join());
        tasks.markJobDone(id, "0.0.0").join();
        assertEquals(true, tasks.jobDone(id, "0.0.0").join());
        assertTrue(redis.async().pttl(Keys.taskJobs(id)).toCompletableFuture().join() > 0);
    }

    @Test
    void aScheduledTaskGivenUpFailsWithItsReason() {
        long id = IDS.incrementAndGet();
        tasks.create(new TaskBody(id, "app", PayloadKind.DATA, "{}", NOW, NOW + 3_600_000, null, null, NOW + 60_000),
                TaskState.SCHEDULED).join();
        assertTrue(tasks.failScheduled(id, "scheduled push failed 5 times").join());
        StoredTask t = tasks.find(id).join();
        assertEquals(TaskState.FAILED, t.state());
        assertEquals("scheduled push failed 5 times", t.reason());
    }
}
