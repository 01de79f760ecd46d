package io.tern.pipeline.permit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.PermitUsageRepository;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The permit as an obeyer sees it, against a real Redis: a directive written by the controller or an SRE, the
 * controller's heartbeat, and the obeyers registered beside this one. Time that decides (the heartbeat's age, the
 * bucket's refill) is a controllable clock; only the arrival of a pushed directive is waited for.
 */
class PermitGateIT {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    private static RedisStore redis;
    private static DirectiveRepository directives;
    private final AtomicLong clock = new AtomicLong(System.currentTimeMillis());
    private final AtomicLong nanos = new AtomicLong(System.nanoTime());
    private final List<PermitGate> gates = new ArrayList<>();

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri(), READ_TIMEOUT);
        directives = new DirectiveRepository(redis);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    @BeforeEach
    @AfterEach
    void noController() {
        gates.forEach(PermitGate::close);
        gates.clear();
        redis.async().del(Keys.throttleDirective(), Keys.rateControllerAlive(), Keys.permitObeyers(), Keys.permitUsage())
                .toCompletableFuture().join();
    }

    private PermitGate gate(String id, PermitConfig config) {
        PermitGate g = PermitGate.start(new DirectiveWatcher(redis, config, READ_TIMEOUT, id, clock::get), config,
                clock::get, nanos::get, id, new SimpleMeterRegistry());
        gates.add(g);
        return g;
    }

    /** Stores the next directive as an SRE would (no lease), with a live controller heartbeat at the clock's now. */
    private long directive(long permit) {
        // The heartbeat first: a tick that reads the new directive must not find it without one (its share would be
        // the fallback's, with the new version, and a test awaiting the version would go on in fallback).
        heartbeat();
        ThrottleDirective current = directives.load().join();
        ThrottleDirective next = current.next(ThrottleState.THROTTLED, permit, ThrottleDirective.BY_SRE, "test",
                clock.get());
        assertTrue(directives.replace(next, "sre", null).join());
        return next.version();
    }

    private void heartbeat() {
        directives.heartbeat(clock.get(), Duration.ofHours(1).toMillis()).join();
    }

    @Test
    void whatTheGateGrantsIsReportedToTheControllerAsGatedLoadUntilItCloses() {
        PermitGate g = gate("it-usage", new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(5),
                Duration.ofSeconds(10), 1000, Duration.ofSeconds(1)));
        PermitUsageRepository usage = new PermitUsageRepository(redis);
        await().atMost(Duration.ofSeconds(30)).until(() -> usage.gatedPerSecond(clock.get()).join().isPresent());
        for (int i = 0; i < 10; i++) {
            assertTrue(g.tryAcquire(50), "within the fallback bucket of 1000");
        }
        // 500 granted: a rate well above zero is reported, averaged over the second the ticks (100 ms) cover.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(() -> usage.gatedPerSecond(clock.get()).join().orElse(0) > 0);
        g.close();
        gates.remove(g);
        assertTrue(usage.gatedPerSecond(clock.get()).join().isEmpty(), "a closed gate withdraws its report");
    }

    @Test
    void withoutAnyDirectiveTheFallbackRateApplies() {
        PermitGate g = gate("it-a", new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofSeconds(10), 321));
        assertTrue(g.share().fallback());
        assertEquals(321.0, g.share().perSecond());
        assertTrue(g.healthy(), "on the fallback rate, openly");
        assertTrue(g.describe().startsWith("fallback"), g.describe());
    }

    @Test
    void aNewDirectiveArrivesByPubSubLongBeforeThePoll() {
        // The poll is 30 s: a directive seen within seconds came through the channel.
        PermitGate g = gate("it-a", new PermitConfig(Duration.ofSeconds(30), Duration.ofSeconds(60),
                Duration.ofSeconds(60), 100));
        heartbeat();
        long t0 = System.nanoTime();
        long version = directive(1200);
        // Issue 11 asks for 1 s; the bound here leaves room for a loaded machine, the figure is printed.
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5))
                .until(() -> g.share().directiveVersion() == version);
        System.out.printf("directive v%d obeyed %.0f ms after it was written (poll 30 s)%n", version,
                (System.nanoTime() - t0) / 1e6);
        assertFalse(g.share().fallback());
        assertEquals(1200.0, g.share().perSecond());
        assertTrue(g.describe().startsWith("directive v" + version), g.describe());
    }

    @Test
    void withoutAControllerHeartbeatForHoldLastTheFallbackRateApplies() {
        PermitGate g = gate("it-a", new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofSeconds(10), 50));
        long version = directive(800);
        await().atMost(Duration.ofSeconds(30)).until(() -> g.share().directiveVersion() == version
                && !g.share().fallback());
        assertEquals(800.0, g.share().perSecond());

        clock.addAndGet(9_000);
        awaitTicks(g, 2);
        assertFalse(g.share().fallback(), "9 s without a heartbeat is within hold-last");

        clock.addAndGet(2_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> g.share().fallback());
        assertEquals(50.0, g.share().perSecond());

        heartbeat(); // the controller is back
        await().atMost(Duration.ofSeconds(30)).until(() -> !g.share().fallback());
        assertEquals(800.0, g.share().perSecond());
    }

    @Test
    void anInvalidStoredDirectiveIsIgnoredAndTheLastGoodOneKept() {
        PermitGate g = gate("it-a", new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofSeconds(10), 50));
        long version = directive(700);
        await().atMost(Duration.ofSeconds(30)).until(() -> g.share().directiveVersion() == version);

        for (String rate : List.of("-5", Long.toString(ThrottleDirective.MAX_PERMIT + 1))) {
            String json = "{\"version\":" + (version + 1) + ",\"state\":\"throttled\",\"permitPerSecond\":" + rate
                    + ",\"source\":\"sre\",\"reason\":\"typo\",\"issuedAtMillis\":" + clock.get() + "}";
            redis.async().hset(Keys.throttleDirective(), "json", json).toCompletableFuture().join();
            redis.async().publish(DirectiveRepository.CHANGES_CHANNEL, Long.toString(version + 1))
                    .toCompletableFuture().join();
            long before = rejections(g);
            await().atMost(Duration.ofSeconds(30)).until(() -> rejections(g) > before);
            assertEquals(version, g.share().directiveVersion(), "refused " + rate + "/s");
            assertEquals(700.0, g.share().perSecond());
            assertFalse(g.share().fallback());
        }
    }

    private static long rejections(PermitGate g) {
        return g.rejectedDirectives();
    }

    @Test
    void twoObeyersSplitThePermitAndOneLeavingGivesItsShareBack() {
        PermitConfig config = new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(10), 50);
        long version = directive(1000);
        PermitGate a = gate("it-a", config);
        PermitGate b = gate("it-b", config);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.share().perSecond() == 500.0
                && b.share().perSecond() == 500.0);
        assertEquals(2, a.share().obeyers());
        assertEquals(version, b.share().directiveVersion());

        b.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> a.share().perSecond() == 1000.0);
    }

    @Test
    void anIdleObeyerLeavesMostOfThePermitToABusyOneAndTakesItsHalfBackTwoPollsAfterItAsks() {
        PermitConfig config = new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(10), 50,
                Duration.ofMillis(100), Duration.ofSeconds(2));
        long version = directive(1050);
        PermitGate busy = gate("it-busy", config);
        PermitGate idle = gate("it-idle", config);
        await().atMost(Duration.ofSeconds(30)).until(() -> busy.share().directiveVersion() == version
                && idle.share().directiveVersion() == version && busy.share().obeyers() == 2);
        assertEquals(525.0, idle.share().perSecond(), 0.01, "both idle: an even split");

        // One asks for permits (a drain with a backlog keeps asking): after two polls it weighs 1000 against 50.
        busy.tryAcquire(1);
        awaitTicks(busy, 1);
        awaitTicks(idle, 1);
        assertEquals(525.0, busy.share().perSecond(), 0.01, "not before the others have seen its weight");
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            busy.tryAcquire(1);
            return busy.share().perSecond() == 1000.0;
        });
        assertEquals(50.0, idle.share().perSecond(), 0.01, "the idle one keeps 50 of 1050");
        assertTrue(busy.describe().endsWith("1000.0/s here (busy)"), busy.describe());

        // The idle one gets work: its share stays at 50 until the busy one has seen it, then both have half.
        idle.tryAcquire(1);
        awaitTicks(idle, 1);
        assertTrue(idle.share().perSecond() <= 50.0, "the weight goes up only after two polls: " + idle.share());
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            busy.tryAcquire(1);
            idle.tryAcquire(1);
            return busy.share().perSecond() == 525.0 && idle.share().perSecond() == 525.0;
        });

        // Asked nothing for idle-after (2 s of the gates' clock): its weight falls at once, the other's share grows.
        nanos.addAndGet(Duration.ofSeconds(3).toNanos());
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            busy.tryAcquire(1);
            return idle.share().perSecond() == 50.0 && busy.share().perSecond() == 1000.0;
        });
    }

    @Test
    void intakeTakesOnlyWhatTheBucketHoldsAndItRefillsAtTheShare() {
        PermitGate g = gate("it-a", new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofSeconds(10), 50, Duration.ofSeconds(1)));
        long version = directive(10);
        await().atMost(Duration.ofSeconds(30)).until(() -> g.share().directiveVersion() == version);
        // Re-rated from the fallback's full 50: the bucket keeps at most the new second's 10.
        assertTrue(g.tryAcquire(10));
        assertFalse(g.tryAcquire(1), "empty until time passes");
        assertFalse(g.tryAcquire(11), "more than the bucket holds is taken only from a full bucket");
        nanos.addAndGet(Duration.ofMillis(300).toNanos());
        assertTrue(g.tryAcquire(3), "10/s refills 3 in 300 ms");
        assertFalse(g.tryAcquire(1));
    }

    @Test
    void theDefaultBucketHoldsATenthOfASecondSoABurstCannotDoubleTheShareAndABigPushGoesIntoDebt() {
        PermitGate g = gate("it-a", new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofSeconds(10), 50));
        long version = directive(1000);
        await().atMost(Duration.ofSeconds(30)).until(() -> g.share().directiveVersion() == version);
        nanos.addAndGet(Duration.ofSeconds(1).toNanos()); // idle: the bucket is full
        assertTrue(g.tryAcquire(100), "a full bucket is 100 ms of 1000/s");
        assertFalse(g.tryAcquire(1));
        nanos.addAndGet(Duration.ofMillis(100).toNanos());
        assertTrue(g.tryAcquire(500), "a list of 500 passes a full bucket, into debt");
        nanos.addAndGet(Duration.ofMillis(400).toNanos());
        assertFalse(g.tryAcquire(1), "the debt of 400 is paid only after 400 ms");
        nanos.addAndGet(Duration.ofMillis(100).toNanos());
        assertTrue(g.tryAcquire(100));
        // 700 granted over the 600 ms since the bucket was full: the share of 600 plus one bucket, no more.
    }

    @Test
    void aDrainWaitsWhileThePermitIsZeroAndIsGrantedOnceItOpens() {
        PermitGate g = gate("it-a", new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofSeconds(10), 50));
        long closed = directive(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> g.share().directiveVersion() == closed);
        assertFalse(g.tryAcquire(1));
        CompletableFuture<Void> waiting = g.acquire(5);
        awaitTicks(g, 3);
        assertFalse(waiting.isDone(), "nothing is granted at permit 0");

        long open = directive(1000);
        await().atMost(Duration.ofSeconds(30)).until(() -> g.share().directiveVersion() == open);
        await().atMost(Duration.ofSeconds(30)).until(waiting::isDone);
        // A cost above a second's share is granted into debt rather than starved.
        g.acquire(1500).orTimeout(30, TimeUnit.SECONDS).join();
    }

    /** Waits for {@code n} more watcher ticks, each of which re-rates the gate. */
    /** Returns within a few ms of the tick: a test that checks what must not change for two polls has its margin. */
    private static void awaitTicks(PermitGate g, int n) {
        long from = g.watcherTicks();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                .until(() -> g.watcherTicks() >= from + n);
    }
}
