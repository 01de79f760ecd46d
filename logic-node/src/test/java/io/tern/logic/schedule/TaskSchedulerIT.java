package io.tern.logic.schedule;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.store.redis.RedisStore;
import io.tern.store.throttle.ReplicaFloorRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scheduled pushes against a real Redis; each "node" has its own Lettuce and Redisson clients and Quartz. */
class TaskSchedulerIT {
    private static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis() * 1000);
    private static final ScheduleConfig CONFIG = new ScheduleConfig(Duration.ofMillis(200), Duration.ofDays(7),
            Duration.ofSeconds(5), 1000, Duration.ofMillis(300), 3, Duration.ofSeconds(2),
            ScheduleConfig.DEFAULT_PEAK_THRESHOLD, ScheduleConfig.DEFAULT_PEAK_REPLICAS, ScheduleConfig.DEFAULT_PEAK_LEAD,
            ScheduleConfig.DEFAULT_PEAK_HOLD);

    private static RedisStore redis;
    /** Every handler call: which node fired which task, when. */
    private final List<Firing> firings = new CopyOnWriteArrayList<>();
    private final List<Node> nodes = new ArrayList<>();

    record Firing(String node, long taskId, String appId, String target, long atMillis) {
    }

    /** One logic node's scheduler with its own connections. */
    final class Node implements AutoCloseable {
        final String name;
        final RedisStore lettuce;
        final RedissonClient redisson;
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final TaskScheduler scheduler;

        Node(String name, Function<Long, CompletableFuture<Void>> outcome) {
            this.name = name;
            this.lettuce = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
            this.redisson = RedissonClients.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2), name);
            this.scheduler = new TaskScheduler(CONFIG, lettuce, redisson, (taskId, appId, target) -> {
                firings.add(new Firing(name, taskId, appId, target, System.currentTimeMillis()));
                return outcome.apply(taskId);
            }, new PeakFloors(CONFIG, new ReplicaFloorRepository(lettuce), (app, target) ->
                    CompletableFuture.completedFuture(0L), name), registry, name);
            nodes.add(this);
        }

        Node start() {
            scheduler.start();
            return this;
        }

        @Override
        public void close() {
            scheduler.close();
            RedissonClients.close(redisson);
            lettuce.close();
        }
    }

    private Node node(String name) {
        return new Node(name, id -> CompletableFuture.completedFuture(null));
    }

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }

    @BeforeEach
    void emptySchedule() {
        redis.async().del(TaskScheduler.SCHEDULE_KEY).toCompletableFuture().join();
    }

    @AfterEach
    void stopNodes() {
        for (Node n : nodes) {
            n.close();
        }
    }

    private List<Firing> firingsOf(long taskId) {
        return firings.stream().filter(f -> f.taskId() == taskId).toList();
    }

    private static boolean entryGone(long taskId) {
        return redis.async().zscore(TaskScheduler.SCHEDULE_KEY, Long.toString(taskId)).toCompletableFuture().join() == null
                && redis.async().exists(TaskScheduler.entryKey(taskId)).toCompletableFuture().join() == 0L;
    }

    @Test
    void aScheduledTaskFiresOnceAtItsTime() {
        Node a = node("a").start();
        long task = IDS.incrementAndGet();
        long sendAt = System.currentTimeMillis() + 1_000;
        a.scheduler.schedule(task, "app1", sendAt, "{\"all\":true}").join();

        await().atMost(Duration.ofSeconds(4)).until(() -> !firingsOf(task).isEmpty());
        Firing f = firingsOf(task).get(0);
        assertEquals("app1", f.appId());
        assertEquals("{\"all\":true}", f.target());
        assertTrue(f.atMillis() >= sendAt - 100, "not early: " + (f.atMillis() - sendAt) + " ms");
        assertTrue(f.atMillis() <= sendAt + 1_000, "on time: " + (f.atMillis() - sendAt) + " ms late");
        await().during(Duration.ofMillis(1_000)).atMost(Duration.ofSeconds(2)).until(() -> firingsOf(task).size() == 1);
        assertTrue(entryGone(task));
        assertEquals(1.0, a.registry.get("tern.schedule.firings").tag("outcome", "fired").counter().count());
    }

    @Test
    void twoNodesOnTheSameRedisFireEachTaskExactlyOnceInTotal() {
        Node a = node("a").start();
        Node b = node("b").start();
        long sendAt = System.currentTimeMillis() + 2_000;
        List<Long> tasks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            long task = IDS.incrementAndGet();
            tasks.add(task);
            (i % 2 == 0 ? a : b).scheduler.schedule(task, "app1", sendAt, "{}").join();
        }
        // Both nodes hold a trigger for every task, so they really race for each one.
        await().atMost(Duration.ofMillis(1_500)).until(() -> a.scheduler.armed() == 20 && b.scheduler.armed() == 20);

        await().atMost(Duration.ofSeconds(5)).until(() -> tasks.stream().allMatch(t -> !firingsOf(t).isEmpty()));
        await().during(Duration.ofMillis(1_000)).atMost(Duration.ofSeconds(2))
                .until(() -> tasks.stream().allMatch(t -> firingsOf(t).size() == 1));
        assertEquals(20, firings.size());
        tasks.forEach(t -> assertTrue(entryGone(t)));
    }

    @Test
    void aTaskScheduledByANodeThatThenStoppedFiresOnceFromANodeStartedAfterwards() {
        Node accepting = node("accepting").start();
        long task = IDS.incrementAndGet();
        accepting.scheduler.schedule(task, "app1", System.currentTimeMillis() + 1_500, "{\"list\":1}").join();
        accepting.close();
        nodes.remove(accepting);

        Node restarted = node("restarted").start();
        await().atMost(Duration.ofSeconds(5)).until(() -> !firingsOf(task).isEmpty());
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> firingsOf(task).size() == 1);
        assertEquals("restarted", firingsOf(task).get(0).node());
        assertEquals("{\"list\":1}", firingsOf(task).get(0).target());
        assertTrue(entryGone(task));
    }

    @Test
    void anEntryAlreadyDueWhenANodeStartsFiresAtOnce() {
        Node writer = node("writer"); // never started: it only writes the entry
        long task = IDS.incrementAndGet();
        writer.scheduler.schedule(task, "app1", System.currentTimeMillis() - 10_000, "{}").join();
        writer.close();
        nodes.remove(writer);

        long started = System.currentTimeMillis();
        node("late").start();
        await().atMost(Duration.ofSeconds(3)).until(() -> !firingsOf(task).isEmpty());
        assertTrue(firingsOf(task).get(0).atMillis() - started < 1_500);
    }

    @Test
    void cancelPreventsFiring() {
        Node a = node("a").start();
        Node b = node("b").start();
        long task = IDS.incrementAndGet();
        a.scheduler.schedule(task, "app1", System.currentTimeMillis() + 800, "{}").join();
        await().atMost(Duration.ofSeconds(1)).until(() -> b.scheduler.armed() == 1);

        assertTrue(a.scheduler.cancel(task).join());
        await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3)).until(() -> firingsOf(task).isEmpty());
        assertTrue(entryGone(task));
        assertFalse(a.scheduler.cancel(task).join(), "nothing left to cancel");
    }

    @Test
    void aFailedPushIsRetriedAFewMomentsLater() {
        Map<Long, Integer> calls = new ConcurrentHashMap<>();
        Node a = new Node("a", id -> calls.merge(id, 1, Integer::sum) == 1
                ? CompletableFuture.failedFuture(new IllegalStateException("brokers away"))
                : CompletableFuture.completedFuture(null)).start();
        long task = IDS.incrementAndGet();
        a.scheduler.schedule(task, "app1", System.currentTimeMillis() + 300, "{}").join();

        await().atMost(Duration.ofSeconds(4)).until(() -> firingsOf(task).size() == 2);
        long gap = firingsOf(task).get(1).atMillis() - firingsOf(task).get(0).atMillis();
        assertTrue(gap >= CONFIG.retryDelay().toMillis() - 50, "retried after the retry delay, not at once: " + gap);
        await().atMost(Duration.ofSeconds(2)).until(() -> entryGone(task));
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> firingsOf(task).size() == 2);
    }

    @Test
    void aPushThatKeepsFailingIsGivenUpAfterMaxAttempts() {
        Node a = new Node("a", id -> CompletableFuture.failedFuture(new IllegalStateException("down"))).start();
        long task = IDS.incrementAndGet();
        a.scheduler.schedule(task, "app1", System.currentTimeMillis(), "{}").join();

        await().atMost(Duration.ofSeconds(5)).until(() -> firingsOf(task).size() == CONFIG.maxAttempts());
        await().atMost(Duration.ofSeconds(2)).until(() -> entryGone(task));
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2))
                .until(() -> firingsOf(task).size() == CONFIG.maxAttempts());
        assertEquals(1.0, a.registry.get("tern.schedule.firings").tag("outcome", "given-up").counter().count());
    }

    @Test
    void aSendAtBeyondMaxAheadIsRejectedAsBadInput() {
        Node a = node("a").start();
        long task = IDS.incrementAndGet();
        CompletionException e = assertThrows(CompletionException.class, () -> a.scheduler.schedule(task, "app1",
                System.currentTimeMillis() + Duration.ofDays(8).toMillis(), "{}").join());
        PushException api = assertInstanceOf(PushException.class, e.getCause());
        assertEquals(PushError.INVALID_FIELD, api.error());
        assertEquals("sendAt", api.field());
        assertNull(redis.async().zscore(TaskScheduler.SCHEDULE_KEY, Long.toString(task)).toCompletableFuture().join());
    }
}
