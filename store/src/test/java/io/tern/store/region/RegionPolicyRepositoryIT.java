package io.tern.store.region;

import io.tern.store.TestRedis;
import io.tern.store.Keys;
import io.tern.store.lease.LeaderLease;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The region policy against a real Redis: compare-and-set, the bounded audit log, and the watcher's
 * two ways of learning a change (pushed, polled). The policy key is global, so this class has a Redis
 * database of its own and empties it before each test.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RegionPolicyRepositoryIT {
    private static final Logger log = LoggerFactory.getLogger(RegionPolicyRepositoryIT.class);
    private static final int DB = 5;
    private static final long NOW = System.currentTimeMillis();
    private static RedisStore redis;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(DB), Duration.ofSeconds(2));
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    @BeforeEach
    void empty() {
        redis.async().flushdb().toCompletableFuture().join();
    }

    private static PolicyChange change(String action) {
        return new PolicyChange(0, NOW, "sre", action, "north", "test");
    }

    private static RegionPolicy policy(long version, String... active) {
        return new RegionPolicy(version, NOW, java.util.Arrays.stream(active).map(Region::active).toList());
    }

    @Test
    void compareAndSetRefusesAWriteBasedOnAStaleVersion() {
        RegionPolicyRepository repo = new RegionPolicyRepository(redis);
        assertEquals(RegionPolicy.EMPTY, repo.load().join());
        assertTrue(repo.replace(policy(1, "north"), change("add")).join());
        assertFalse(repo.replace(policy(1, "south"), change("add")).join(), "a second version 1 based on version 0");
        assertFalse(repo.replace(policy(3, "south"), change("add")).join(), "skipping a version");
        assertEquals(List.of(Region.active("north")), repo.load().join().regions());
        assertTrue(repo.replace(policy(2, "north", "south"), change("add")).join());
        assertEquals(2, repo.load().join().version());
        assertEquals(List.of(2L, 1L), repo.history(10).join().stream().map(PolicyChange::version).toList(),
                "refused writes are not logged");
    }

    @Test
    void aLeaderWriteLandsOnlyWhileItsWriterHoldsTheLease() {
        RegionPolicyRepository repo = new RegionPolicyRepository(redis);
        LeaderLease lease = new LeaderLease(redis, Keys.schedulerLeader());
        assertFalse(repo.replace(policy(1, "north"), change("stage"), "s1|a").join(), "no lease held by anyone");
        assertTrue(lease.acquire("s1|a", 60_000).join());
        assertFalse(lease.acquire("s2|b", 60_000).join(), "one holder");
        assertFalse(repo.replace(policy(1, "north"), change("stage"), "s2|b").join(), "not the holder");
        assertEquals(0, repo.load().join().version());
        assertTrue(repo.replace(policy(1, "north"), change("stage"), "s1|a").join());
        assertFalse(lease.renew("s2|b", 60_000).join());
        lease.release("s2|b").join();
        assertEquals("s1|a", lease.holder().join(), "only the holder releases");
        assertTrue(lease.renew("s1|a", 60_000).join());
        lease.release("s1|a").join();
        assertNull(lease.holder().join());
        assertFalse(repo.replace(policy(2, "north"), change("stage"), "s1|a").join(), "released: writes nothing");
        assertTrue(repo.replace(policy(2, "north"), change("failover")).join(), "an SRE's write needs no lease");
    }

    @Test
    void historyIsNewestFirstAndBounded() {
        RegionPolicyRepository repo = new RegionPolicyRepository(redis, 3);
        for (int v = 1; v <= 5; v++) {
            assertTrue(repo.replace(policy(v, "north"), change("step" + v)).join());
        }
        List<PolicyChange> history = repo.history(10).join();
        assertEquals(List.of(5L, 4L, 3L), history.stream().map(PolicyChange::version).toList());
        assertEquals(List.of("step5", "step4", "step3"), history.stream().map(PolicyChange::action).toList());
        assertEquals("sre", history.get(0).by());
        assertEquals(NOW, history.get(0).atMillis());
        assertEquals(List.of(5L, 4L), repo.history(2).join().stream().map(PolicyChange::version).toList());
    }

    @Test
    void aMoveRoundTripsWithItsCountsAndARegionKeepsItsLastMove() {
        RegionPolicyRepository repo = new RegionPolicyRepository(redis);
        RegionMove done = new RegionMove(3, RegionMove.Direction.FAILOVER, "north", "south", 500, 3, 1.0, false, null,
                NOW, 1000L, NOW + 60_000);
        RegionMove moving = new RegionMove(7, RegionMove.Direction.FAILBACK, "south", "north", 200, 1, 0.05, true,
                "target north connect p99 1400 ms > 1000 ms", NOW, 999L, null);
        RegionPolicy p = new RegionPolicy(1, NOW, List.of(
                new Region("north", RegionState.FAILING_BACK, "north", moving, done), Region.active("south")));
        assertTrue(repo.replace(p, change("failback")).join());
        assertEquals(p, repo.load().join());
    }

    @Test
    void aPolicyStoredBeforeMovesCarriedCountsReadsWithNoneRecorded() {
        // As the first version of the model wrote it: no coveredAtStart, finishedAtMillis, lastMove.
        String json = "{\"version\":4,\"updatedAtMillis\":1,\"regions\":[{\"name\":\"north\",\"state\":\"failing-over\","
                + "\"servedBy\":\"south\",\"move\":{\"id\":4,\"direction\":\"failover\",\"from\":\"north\",\"to\":\"south\","
                + "\"ratePerSecond\":500,\"stage\":0,\"stageFraction\":0.01,\"paused\":false,\"pausedReason\":null,"
                + "\"startedAtMillis\":1}}]}";
        redis.async().hset(Keys.regionPolicy(), java.util.Map.of("v", "4", "json", json)).toCompletableFuture().join();
        Region north = new RegionPolicyRepository(redis).load().join().region("north");
        assertNull(north.move().coveredAtStart(), "not yet counted, rather than counted as zero");
        assertNull(north.move().finishedAtMillis());
        assertNull(north.lastMove());
    }

    @Test
    void theWatcherLearnsAChangeByPushWithoutWaitingForItsPoll() {
        RegionPolicyRepository repo = new RegionPolicyRepository(redis);
        // A 10-minute poll: within this test only the pushed message can bring the change.
        try (RegionPolicyWatcher watcher = new RegionPolicyWatcher(redis, repo, Duration.ofMinutes(10),
                Duration.ofSeconds(5), "test push").start()) {
            List<Long> seen = new CopyOnWriteArrayList<>();
            watcher.onChange(p -> seen.add(p.version()));
            // The subscription is asynchronous: write until one version is seen, then time a fresh one.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                long v = repo.load().join().version() + 1;
                repo.replace(policy(v, "north"), change("warm-up")).join();
                return !seen.isEmpty();
            });
            long next = repo.load().join().version() + 1;
            long start = System.nanoTime();
            assertTrue(repo.replace(policy(next, "north", "south"), change("failover")).join());
            await().atMost(Duration.ofSeconds(30)).until(() -> watcher.current().version() == next);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            log.info("pushed policy change seen after {} ms", millis);
            assertEquals(List.of(Region.active("north"), Region.active("south")), watcher.current().regions());
            assertTrue(seen.contains(next));
            assertEquals(seen.stream().sorted().distinct().toList(), seen, "listeners see each version once, in order");
        }
    }

    @Test
    void theWatcherLearnsAChangeByPollingWhenNoMessageCame() {
        RegionPolicyRepository repo = new RegionPolicyRepository(redis);
        try (RegionPolicyWatcher watcher = new RegionPolicyWatcher(redis, repo, Duration.ofMillis(200),
                Duration.ofSeconds(5), "test poll").start()) {
            assertEquals(0, watcher.current().version());
            assertTrue(watcher.fresh(), "read once at start");
            // Written around the script: no message on the channel, as when pub/sub missed it.
            String json = RegionPolicyRepository.encode(policy(1, "east"));
            redis.async().hset(Keys.regionPolicy(), java.util.Map.of("v", "1", "json", json)).toCompletableFuture().join();
            await().atMost(Duration.ofSeconds(30)).until(() -> watcher.current().version() == 1);
            assertEquals(List.of(Region.active("east")), watcher.current().regions());
        }
    }

    @Test
    void aWatcherThatCannotReadIsNoLongerFresh() {
        RegionPolicyRepository repo = new RegionPolicyRepository(redis);
        // Fresh for 3 polls + 1 read timeout = 7 s after the last read: room for a loaded machine.
        RegionPolicyWatcher watcher = new RegionPolicyWatcher(redis, repo, Duration.ofSeconds(2),
                Duration.ofSeconds(1), "test stale").start();
        try {
            assertTrue(watcher.fresh());
        } finally {
            watcher.close(); // no more reads: the copy ages
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> !watcher.fresh());
    }
}
