package io.tern.store.broadcast;

import io.tern.store.TestRedis;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The broadcast log against a real Redis. Each test uses its own appId. */
class BroadcastLogIT {
    private static final long NOW = System.currentTimeMillis();
    private static final AtomicLong ids = new AtomicLong(System.nanoTime());
    private static RedisStore redis;
    private static TaskRepository tasks;
    private static BroadcastLog log;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(2));
        tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
        log = new BroadcastLog(redis, 3);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static String app() {
        return "app-" + UUID.randomUUID();
    }

    private static long task(String app, long expiresAt) {
        long id = ids.incrementAndGet();
        tasks.create(new TaskBody(id, app, PayloadKind.NOTIFICATION, "{\"title\":\"t" + id + "\"}", NOW - 1000,
                expiresAt, null, null, 0), TaskState.SENDING).join();
        return id;
    }

    private static List<Long> taskIds(List<BroadcastEntry> entries) {
        return entries.stream().map(BroadcastEntry::taskId).toList();
    }

    @Test
    void appendNumbersBroadcastsPerAppAndSinceReturnsTheMissedOnesOldestFirst() {
        String app = app();
        long a = task(app, NOW + 60_000);
        long b = task(app, NOW + 60_000);
        assertEquals(0L, log.lastSeq(app).join());
        assertEquals(1L, log.append(app, a, NOW + 60_000, NOW).join());
        assertEquals(2L, log.append(app, b, NOW + 60_000, NOW).join());
        assertEquals(2L, log.lastSeq(app).join());
        assertEquals(1L, log.append(app(), task(app, NOW + 60_000), NOW + 60_000, NOW).join(), "sequences are per app");

        List<BroadcastEntry> all = log.since(app, 0, NOW, 10).join();
        assertEquals(List.of(a, b), taskIds(all));
        BroadcastEntry first = all.get(0);
        assertEquals(1L, first.seq());
        assertEquals(PayloadKind.NOTIFICATION, first.kind());
        assertEquals("{\"title\":\"t" + a + "\"}", first.payload());
        assertEquals(NOW + 60_000, first.expiresAtMillis());
        assertEquals(1L, first.toPush().broadcastSeq());
        assertEquals(a, first.toPush().msgId());

        assertEquals(List.of(b), taskIds(log.since(app, 1, NOW, 10).join()));
        assertEquals(List.of(), log.since(app, 2, NOW, 10).join());
        assertEquals(List.of(a), taskIds(log.since(app, 0, NOW, 1).join()), "limit");
    }

    @Test
    void recalledAndExpiredTasksAreNeverHandedOut() {
        String app = app();
        long recalled = task(app, NOW + 60_000);
        long shortLived = task(app, NOW + 5_000);
        long live = task(app, NOW + 60_000);
        log.append(app, recalled, NOW + 60_000, NOW).join();
        log.append(app, shortLived, NOW + 5_000, NOW).join();
        log.append(app, live, NOW + 60_000, NOW).join();
        tasks.recall(recalled, NOW).join();

        assertEquals(List.of(shortLived, live), taskIds(log.since(app, 0, NOW, 10).join()));
        assertEquals(List.of(live), taskIds(log.since(app, 0, NOW + 5_000, 10).join()), "expired at its expiry time");
    }

    @Test
    void logIsCutToItsLengthByTheAppendItself() {
        String app = app();
        long[] live = new long[5];
        for (int i = 0; i < live.length; i++) {
            live[i] = task(app, NOW + 60_000);
            log.append(app, live[i], NOW + 60_000, NOW).join();
            assertTrue(members(app).size() <= 3, "never more than 3 once the number is handed out");
        }
        assertEquals(List.of(live[2], live[3], live[4]), members(app), "the oldest beyond 3 dropped");
        assertEquals(5L, log.lastSeq(app).join(), "the sequence keeps counting");
        long ttl = redis.async().pttl(Keys.broadcastLog(app)).toCompletableFuture().join();
        assertTrue(ttl > 0 && ttl <= 60_000, "the log expires with its longest-lived task: " + ttl);
        assertEquals(-1L, redis.async().pttl(Keys.broadcastSeq(app)).toCompletableFuture().join(), "the sequence never expires");
    }

    @Test
    void anAppendDropsTheEntriesOfExpiredAndRecalledTasksAfterItReturns() {
        String app = app();
        long expired = task(app, NOW + 1_000);
        log.append(app, expired, NOW + 1_000, NOW).join();
        long recalled = task(app, NOW + 60_000);
        log.append(app, recalled, NOW + 60_000, NOW).join();
        tasks.recall(recalled, NOW).join();
        long live = task(app, NOW + 60_000);
        log.append(app, live, NOW + 60_000, NOW + 2_000).join();
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertEquals(List.of(live), members(app), "below its length, the log keeps only the live entry"));
    }

    private static List<Long> members(String app) {
        return redis.async().zrange(Keys.broadcastLog(app), 0, -1).toCompletableFuture().join().stream()
                .map(Long::parseLong).toList();
    }

    @Test
    void aDeviceThatKeptNoSequenceGetsWhatWasBroadcastAfterItsPreviousConnect() {
        String app = app();
        RouteRepository routes = new RouteRepository(redis);
        assertNull(log.previousConnect(app, "d1").join(), "never seen");
        routes.put(app, "d1", new Route("b1", "e1"), NOW).join();
        assertEquals(NOW, log.previousConnect(app, "d1").join());

        long before = task(app, NOW + 60_000);
        long after = task(app, NOW + 60_000);
        log.append(app, before, NOW + 60_000, NOW - 10).join();
        log.append(app, after, NOW + 60_000, NOW + 10).join();
        assertEquals(List.of(after), taskIds(log.appendedAfter(app, NOW, NOW + 20, 10).join()));
        assertEquals(String.valueOf(NOW + 10),
                redis.async().hget(Keys.task(after), "bcastAt").toCompletableFuture().join(), "broadcast time on the task");
    }

    @Test
    void aSequenceBeyondTheCurrentOneMeansTheStoreWasResetAndGetsTheWholeLog() {
        String app = app();
        long t = task(app, NOW + 60_000);
        log.append(app, t, NOW + 60_000, NOW).join();
        assertEquals(List.of(t), taskIds(log.since(app, 500, NOW, 10).join()));
    }

    @Test
    void appendingAnUnknownTaskFailsAndLeavesNoEntry() {
        String app = app();
        long live = task(app, NOW + 60_000);
        log.append(app, live, NOW + 60_000, NOW).join();
        CompletionException e = assertThrows(CompletionException.class,
                () -> log.append(app, ids.incrementAndGet(), NOW + 1000, NOW).join());
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        // The raw log, not a read (reads skip entries whose task is gone anyway).
        assertEquals(List.of(Long.toString(live)),
                redis.async().zrange(Keys.broadcastLog(app), 0, -1).toCompletableFuture().join());
    }
}
