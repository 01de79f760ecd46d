package io.tern.logic.schedule;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.group.GroupTarget;
import io.tern.pipeline.group.TagExpression;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerSnapshot;
import io.tern.store.tag.TagRepository;
import io.tern.store.throttle.ReplicaFloor;
import io.tern.store.throttle.ReplicaFloorRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.redisson.api.RedissonClient;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scheduling a large push writes the bypass consumers' replica floor ahead of it, against a real Redis (a database
 * of this class's own: the schedule and floor keys are global). Tasks are scheduled an hour ahead, so none fires.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PeakFloorsIT {
    private static final int DB = 13;
    /** Floors for targets over 3 devices, 5 replicas, from 10 minutes before sendAt to 30 after. */
    private static final ScheduleConfig CONFIG = new ScheduleConfig(Duration.ofMillis(200), Duration.ofDays(7),
            Duration.ofSeconds(5), 1000, Duration.ofMillis(300), 3, Duration.ofSeconds(2), 3, 5,
            Duration.ofMinutes(10), Duration.ofMinutes(30));
    private static final String APP = "app1";
    private static RedisStore redis;
    private static RedissonClient redisson;
    private final AtomicReference<BrokerSnapshot> brokers = new AtomicReference<>(BrokerSnapshot.NONE);
    private final ReplicaFloorRepository floors = new ReplicaFloorRepository(redis);
    private TaskScheduler scheduler;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri() + "/" + DB, Duration.ofSeconds(2));
        redisson = RedissonClients.connect(SharedInfra.redis().uri() + "/" + DB, Duration.ofSeconds(2), "peak-it");
    }

    @AfterAll
    static void disconnect() {
        RedissonClients.close(redisson);
        redis.close();
    }

    @BeforeEach
    void start() {
        redis.async().flushdb().toCompletableFuture().join();
        scheduler = newScheduler("n1");
    }

    @AfterEach
    void stop() {
        scheduler.close();
    }

    private TaskScheduler newScheduler(String name) {
        PeakFloors peaks = new PeakFloors(CONFIG, new ReplicaFloorRepository(redis),
                PeakFloors.estimator(new TagRepository(redis), brokers::get), name);
        return new TaskScheduler(CONFIG, redis, redisson, (taskId, appId, target) -> CompletableFuture.completedFuture(null),
                peaks, new SimpleMeterRegistry(), name).start();
    }

    private static long hourAhead() {
        return System.currentTimeMillis() + Duration.ofHours(1).toMillis();
    }

    private List<ReplicaFloor> floorsNow() {
        return floors.current(System.currentTimeMillis()).join();
    }

    @Test
    void aLargeListPushGetsAFloorFromTenMinutesBeforeToThirtyAfter() {
        long sendAt = hourAhead();
        scheduler.schedule(41, APP, sendAt, new GroupTarget.ListTarget(List.of("r1", "r2", "r3", "r4")).toJson()).join();
        List<ReplicaFloor> all = floorsNow();
        assertEquals(1, all.size(), all.toString());
        ReplicaFloor f = all.get(0);
        assertEquals("task-41", f.id());
        assertEquals(sendAt - Duration.ofMinutes(10).toMillis(), f.fromMillis());
        assertEquals(sendAt + Duration.ofMinutes(30).toMillis(), f.untilMillis());
        assertEquals(5, f.replicas());
        assertTrue(f.reason().contains("~4 devices"), f.reason());
    }

    @Test
    void aSmallPushGetsNoFloor() {
        scheduler.schedule(42, APP, hourAhead(), new GroupTarget.ListTarget(List.of("r1", "r2", "r3")).toJson()).join();
        assertTrue(floorsNow().isEmpty());
    }

    @Test
    void tagAndBroadcastTargetsAreEstimated() {
        TagRepository tags = new TagRepository(redis);
        tags.add(APP, "news", List.of("a", "b")).join();
        tags.add(APP, "sport", List.of("c", "d")).join();
        // any of news, sport: 2 + 2 = 4 devices at most, over 3.
        scheduler.schedule(43, APP, hourAhead(), new GroupTarget.TagTarget(
                new TagExpression(List.of("news", "sport"), List.of(), List.of())).toJson()).join();
        // all of news and sport: at most the smaller, 2.
        scheduler.schedule(44, APP, hourAhead(), new GroupTarget.TagTarget(
                new TagExpression(List.of(), List.of("news", "sport"), List.of())).toJson()).join();
        // all: the devices online on live brokers now, 2 + 3.
        brokers.set(new BrokerSnapshot(List.of(new BrokerInfo("b1", "local", "t", "w", "i", 2, 0),
                new BrokerInfo("b2", "local", "t", "w", "i", 3, 0)), System.currentTimeMillis()));
        scheduler.schedule(45, APP, hourAhead(), new GroupTarget.AllTarget().toJson()).join();
        assertEquals(List.of("task-43", "task-45"), floorsNow().stream().map(ReplicaFloor::id).sorted().toList());
    }

    @Test
    void recallingTheTaskDeletesItsFloorAndReschedulingMovesIt() {
        String big = new GroupTarget.ListTarget(List.of("r1", "r2", "r3", "r4")).toJson();
        long first = hourAhead();
        scheduler.schedule(46, APP, first, big).join();
        long later = first + Duration.ofHours(1).toMillis();
        scheduler.schedule(46, APP, later, big).join();
        List<ReplicaFloor> moved = floorsNow();
        assertEquals(1, moved.size());
        assertEquals(later - Duration.ofMinutes(10).toMillis(), moved.get(0).fromMillis());
        assertTrue(scheduler.cancel(46).join());
        assertTrue(floorsNow().isEmpty());
    }

    @Test
    void theFloorOutlivesTheNodeThatWroteItAndIsNotWrittenTwice() {
        String big = new GroupTarget.ListTarget(List.of("r1", "r2", "r3", "r4")).toJson();
        long sendAt = hourAhead();
        scheduler.schedule(47, APP, sendAt, big).join();
        scheduler.close();
        // A restarted node rescans the schedule; the floor is state in Redis, so nothing is written again or lost.
        scheduler = newScheduler("n1-restarted");
        assertEquals(1, redis.async().zcard(TaskScheduler.SCHEDULE_KEY).toCompletableFuture().join());
        List<ReplicaFloor> all = floorsNow();
        assertEquals(1, all.size());
        assertEquals("task-47", all.get(0).id());
        assertEquals(sendAt - Duration.ofMinutes(10).toMillis(), all.get(0).fromMillis());
    }
}
