package io.tern.store.message;

import io.tern.devstack.RedisServer;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The redelivery due set against a real Redis of its own (sweeps see the whole set): which accepts put a
 * message up for a check, what takes it back, and how claims lease, retry and give up.
 */
class RedeliveryQueueIT {
    // The scripts take time as an argument; records still expire by the Redis clock, so start from now.
    private static final long NOW = System.currentTimeMillis();
    private static final long DELAY = 5_000;
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final AtomicLong ids = new AtomicLong(System.nanoTime());
    private static RedisServer server;
    private static RedisStore redis;
    private static MessageRepository messages;
    private static RedeliveryQueue queue;
    private static RouteRepository routes;

    @BeforeAll
    static void start() {
        server = RedisServer.start(RedisServer.Options.defaults());
        redis = RedisStore.connect(server.uri(), Duration.ofSeconds(2));
        messages = new MessageRepository(redis, new QueuePolicy(10, Duration.ofDays(7), Duration.ofDays(1),
                Duration.ofHours(24)), new DeliveryChecks(Duration.ofMillis(DELAY), 3));
        queue = new RedeliveryQueue(redis);
        routes = new RouteRepository(redis);
    }

    @AfterAll
    static void stop() {
        redis.close();
        server.close();
    }

    @BeforeEach
    void emptyTheDueSet() {
        for (int shard = 0; shard < Keys.REDELIVERY_SHARDS; shard++) {
            redis.async().del(Keys.redeliveryDue(shard), Keys.redeliveryTries(shard)).toCompletableFuture().join();
        }
    }

    private static long accept(String app, String reg) {
        long id = ids.incrementAndGet();
        messages.accept(new NewMessage(id, app, reg, PayloadKind.DATA, "{}", NOW, NOW + 3_600_000, null, null, null)).join();
        return id;
    }

    private static String routedDevice() {
        String app = "app-" + UUID.randomUUID();
        routes.put(app, "d", new Route("b1", "e1"), NOW).join();
        return app;
    }

    private static Double due(long msgId) {
        return redis.async().zscore(Keys.redeliveryDue(Keys.redeliveryShard(msgId)), Long.toString(msgId))
                .toCompletableFuture().join();
    }

    @Test
    void aPushToARoutedDeviceIsDueForACheckUntilItIsMarkedSent() {
        String app = routedDevice();
        long sent = accept(app, "d");
        long failed = accept(app, "d");
        assertEquals(NOW + DELAY, due(sent));

        messages.advanceAll(List.of(new StatusMark(app, "d", sent, MessageStatus.SENT),
                new StatusMark(app, "d", failed, MessageStatus.OFFLINE)), NOW + 1).join();

        assertNull(due(sent), "a sent message needs no check");
        assertEquals(NOW + DELAY, due(failed), "an offline mark leaves the check: the redelivery sweeper retries it");
    }

    @Test
    void aRepeatedAcceptNeitherMovesNorTakesBackTheFirstAcceptsCheck() {
        String app = routedDevice();
        NewMessage m = new NewMessage(ids.incrementAndGet(), app, "d", PayloadKind.DATA, "{}", NOW, NOW + 3_600_000,
                null, null, null);
        assertTrue(messages.accept(m).join().created());

        assertFalse(messages.accept(m, NOW + 60_000).join().created(), "the same msgId drained again");

        assertEquals(NOW + DELAY, due(m.msgId()));
    }

    @Test
    void aPushToADeviceWithoutARouteIsNotCheckedItsReconnectDeliversIt() {
        String app = "app-" + UUID.randomUUID();
        redis.async().set(Keys.device(app, "away"), "1").toCompletableFuture().join();
        assertNull(due(accept(app, "away")));
    }

    @Test
    void theDueSetIsBoundedBeyondItPushesAreNotChecked() {
        String app = routedDevice();
        // max-due 3 over the shards: one entry per shard at most.
        Map<Integer, Long> first = new HashMap<>();
        long over = -1;
        while (over < 0) {
            long id = accept(app, "d");
            if (first.putIfAbsent(Keys.redeliveryShard(id), id) != null) {
                over = id;
            }
        }
        first.values().forEach(id -> assertNotNull(due(id)));
        assertNull(due(over), "its shard is full");
        assertEquals(first.size(), queue.sweep(NOW, LEASE, 10, 5).join().size(), "counted, none due yet");
    }

    @Test
    void aClaimLeasesItsEntriesSoNoOtherSweeperTakesThemUntilTheLeaseRunsOut() {
        String app = routedDevice();
        long id = accept(app, "d");
        assertEquals(List.of(), queue.sweep(NOW + DELAY - 1, LEASE, 10, 5).join().claims(), "not due yet");

        assertEquals(List.of(new RedeliveryQueue.Claim(id, 1)), queue.sweep(NOW + DELAY, LEASE, 10, 5).join().claims());
        assertEquals(List.of(), queue.sweep(NOW + DELAY + 1, LEASE, 10, 5).join().claims(), "leased to the first sweeper");
        assertEquals(List.of(new RedeliveryQueue.Claim(id, 2)),
                queue.sweep(NOW + DELAY + LEASE.toMillis(), LEASE, 10, 5).join().claims(), "its sweeper died: due again");
    }

    @Test
    void aSweepCountsTheWholeSetAndRunsTheClaimScriptOnlyOnShardsThatHoldChecks() {
        long scriptsBefore = scriptRuns();
        assertEquals(new RedeliveryQueue.Sweep(0, List.of()), queue.sweep(NOW + DELAY, LEASE, 10, 5).join());
        assertEquals(scriptsBefore, scriptRuns(), "an empty set is swept without a script run");

        String app = routedDevice();
        long due = accept(app, "d");
        long notDue = accept(app, "d");
        redis.async().zadd(Keys.redeliveryDue(Keys.redeliveryShard(notDue)), (double) (NOW + 2 * DELAY),
                Long.toString(notDue)).toCompletableFuture().join();
        Set<Integer> held = Set.of(Keys.redeliveryShard(due), Keys.redeliveryShard(notDue));

        scriptsBefore = scriptRuns();
        RedeliveryQueue.Sweep sweep = queue.sweep(NOW + DELAY, LEASE, 10, 5).join();

        assertEquals(2, sweep.size(), "claimed or not, both are counted");
        assertEquals(List.of(new RedeliveryQueue.Claim(due, 1)), sweep.claims());
        assertEquals(scriptsBefore + held.size(), scriptRuns(), "one claim per shard that holds a check");
    }

    /** Claim scripts run so far on this test's own Redis (EVALSHA, or EVAL when the script was not loaded). */
    private static long scriptRuns() {
        String stats = redis.async().info("commandstats").toCompletableFuture().join();
        long runs = 0;
        for (String line : stats.split("\r?\n")) {
            if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
                String calls = line.substring(line.indexOf("calls=") + 6);
                runs += Long.parseLong(calls.substring(0, calls.indexOf(',')));
            }
        }
        return runs;
    }

    @Test
    void aRetryMovesTheCheckButNeverBringsBackOneThatWasMarkedSent() {
        String app = routedDevice();
        long retried = accept(app, "d");
        long sent = accept(app, "d");
        messages.advance(app, "d", sent, MessageStatus.SENT, NOW).join();

        queue.retryAt(retried, NOW + 100).join();
        queue.retryAt(sent, NOW + 100).join();

        assertEquals(NOW + 100, due(retried));
        assertNull(due(sent));
    }

    @Test
    void aClaimSpreadsOverTheShardsAndADroppedCheckLeavesWithItsAttempts() {
        String app = routedDevice();
        Set<Long> accepted = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            accepted.add(accept(app, "d"));
        }
        Set<Long> claimed = new HashSet<>();
        queue.sweep(NOW + DELAY, LEASE, 10, 5).join().claims().forEach(c -> claimed.add(c.msgId()));
        assertEquals(accepted, claimed);
        for (long id : accepted) {
            queue.drop(id).join();
            assertNull(redis.async().hget(Keys.redeliveryTries(Keys.redeliveryShard(id)), Long.toString(id))
                    .toCompletableFuture().join());
        }
        assertEquals(new RedeliveryQueue.Sweep(0, List.of()), queue.sweep(NOW + DELAY, LEASE, 10, 5).join());
    }

    @Test
    void afterItsLastAttemptACheckGivesUpAndLeavesTheMessageQueuedForTheReconnect() {
        String app = routedDevice();
        long id = accept(app, "d");
        long t = NOW + DELAY;
        for (int attempt = 1; attempt <= 2; attempt++) {
            assertEquals(List.of(new RedeliveryQueue.Claim(id, attempt)), queue.sweep(t, LEASE, 10, 2).join().claims());
            queue.retryAt(id, t + 1).join();
            t += 1;
        }
        assertEquals(List.of(new RedeliveryQueue.Claim(id, RedeliveryQueue.Claim.GAVE_UP)),
                queue.sweep(t, LEASE, 10, 2).join().claims());
        assertNull(due(id));
        assertEquals(List.of(), queue.sweep(t + LEASE.toMillis(), LEASE, 10, 2).join().claims(), "never loops");
        assertEquals(Long.toString(id), redis.async().zrange(Keys.queue(app, "d"), 0, -1).toCompletableFuture().join().get(0),
                "still queued for its device");
    }
}
