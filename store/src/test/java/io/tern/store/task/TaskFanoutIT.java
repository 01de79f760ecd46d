package io.tern.store.task;

import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.TestRedis;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broadcast fan-out records on a real Redis: one taker per expired lease, each broker counted once, bounded takeovers. */
class TaskFanoutIT {
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

    /** A task broadcast under {@code seq} whose fan-out's lease ends at {@code leaseEnd}. */
    private static long fanningOut(long seq, long leaseEnd) {
        long id = IDS.incrementAndGet();
        tasks.create(new TaskBody(id, "app", PayloadKind.DATA, "{}", NOW, NOW + 3_600_000, null, null, 0),
                TaskState.CREATED).join();
        redis.async().hset(Keys.task(id), "bcastSeq", Long.toString(seq)).toCompletableFuture().join();
        tasks.startFanout(id, leaseEnd).join();
        return id;
    }

    @Test
    void aFanOutWhoseLeaseRanOutIsTakenOnceWithTheBrokersThatAlreadyAnswered() {
        long id = fanningOut(42, NOW + 1_000);
        assertTrue(tasks.fanoutBrokerDone(id, "b1", 7).join());
        assertFalse(tasks.fanoutBrokerDone(id, "b1", 7).join(), "a broker's answer counts once");
        assertTrue(tasks.fanoutsDue(NOW + 999, 10).join().stream().noneMatch(t -> t == id));
        assertNull(tasks.claimFanout(id, NOW + 999, NOW + 5_000, 3).join(), "lease still running");

        assertTrue(tasks.fanoutsDue(NOW + 1_000, 1000).join().contains(id));
        TaskRepository.FanoutClaim c = tasks.claimFanout(id, NOW + 1_000, NOW + 5_000, 3).join();
        assertEquals(42, c.broadcastSeq());
        assertEquals(List.of("b1"), c.brokersDone());
        assertFalse(c.givenUp());
        assertNull(tasks.claimFanout(id, NOW + 1_000, NOW + 5_000, 3).join(), "one taker only");

        assertTrue(tasks.fanoutBrokerDone(id, "b2", 5).join());
        StoredTask t = tasks.find(id).join();
        assertEquals(12, t.counter(TaskCounter.SENT));
        assertEquals(12, t.counter(TaskCounter.TARGETED));
        tasks.finishFanout(id).join();
        assertNull(redis.async().zscore(Keys.fanoutTasks(), Long.toString(id)).toCompletableFuture().join());
    }

    @Test
    void aFanOutTakenOverTooOftenIsGivenUpAndOneOfAGoneTaskIsDropped() {
        long id = fanningOut(3, NOW);
        assertFalse(tasks.claimFanout(id, NOW, NOW, 1).join().givenUp());
        assertTrue(tasks.claimFanout(id, NOW, NOW, 1).join().givenUp(), "the second takeover of at most one");
        tasks.finishFanout(id).join();

        long gone = fanningOut(4, NOW);
        redis.async().del(Keys.task(gone)).toCompletableFuture().join();
        assertNull(tasks.claimFanout(gone, NOW, NOW + 5_000, 3).join());
        assertNull(redis.async().zscore(Keys.fanoutTasks(), Long.toString(gone)).toCompletableFuture().join(),
                "nothing left to send");
        assertFalse(tasks.fanoutBrokerDone(gone, "b1", 1).join(), "no counters for a task that is gone");
        assertEquals(0L, redis.async().exists(Keys.task(gone)).toCompletableFuture().join());
    }

    @Test
    void renewingAFinishedFanOutDoesNotBringItBack() {
        long id = fanningOut(5, NOW);
        tasks.finishFanout(id).join();
        tasks.renewFanouts(List.of(id), NOW + 5_000).join();
        assertNull(redis.async().zscore(Keys.fanoutTasks(), Long.toString(id)).toCompletableFuture().join());
    }
}
