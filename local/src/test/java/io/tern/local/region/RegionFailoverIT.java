package io.tern.local.region;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.process.ProcessCluster;
import io.tern.devstack.process.RoleProcess;
import io.tern.local.chaos.PushStream;
import io.tern.local.chaos.Tally;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Region failover and failback as an SRE runs them, every role its own OS process: three regions (north, south,
 * east; one broker each), two logic nodes, two global schedulers (one leads) and {@value #DEVICES} SDK devices
 * whose home regions are spread evenly over the three. Single pushes to random devices at {@value #RATE}/s flow
 * through both logic nodes all the time; each test moves a region's devices away and back through the
 * scheduler's admin API and then proves that every accepted message reached its device exactly once (after the
 * SDK's de-duplication) and that every device is back on a broker of its home region. Each test prints its row
 * (the {@link Tally} table) and the move's numbers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RegionFailoverIT {
    static final List<String> REGIONS = List.of("north", "south", "east");
    static final int DEVICES = 3_000;
    static final int RATE = 100;
    static final int MOVE_RATE = 500;
    /** Slow enough that the move is still under way when its leader dies. */
    static final int SLOW_MOVE_RATE = 100;
    /** A move of ~1,000 devices at 500/s in stages takes seconds; this is the bound on a loaded machine. */
    static final Duration MOVE_BOUND = Duration.ofSeconds(60);

    private RegionPlatform platform;
    /** The stream of the running test: stopped after it even when it failed half-way. */
    private SteadyPushes pushes;
    private RedisStore redis;
    private final List<String> rows = new ArrayList<>();
    /** Moves of the running test that did not finish in time: reported with the tally, so one run shows both. */
    private final List<String> unfinished = new ArrayList<>();

    @BeforeAll
    void start() {
        platform = RegionPlatform.start("region-failover", REGIONS, REGIONS.size(), 2, 2, DEVICES, Map.of());
        redis = RedisStore.connect(platform.cluster.redisUri(), Duration.ofSeconds(2));
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> leader().isPresent());
        // Every device starts at home: the dispatcher answers a device's home region first.
        for (String r : REGIONS) {
            assertEquals(DEVICES / REGIONS.size(), platform.countOn(platform.homedIn(r), r), "devices of " + r + " at home");
        }
    }

    @AfterEach
    void stopPushing() {
        if (pushes != null) {
            pushes.close();
        }
        unfinished.clear();
    }

    @AfterAll
    void stop() {
        System.out.println(Tally.header());
        rows.forEach(System.out::println);
        if (redis != null) {
            redis.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    @Order(1)
    void theSchedulerProcessRefusesAWrongOrMissingTokenWith401() {
        SchedulerAdmin wrong = new SchedulerAdmin(platform.cluster.schedulerUrls().get(0), "not-the-sre-token-at-all");
        SchedulerAdmin anonymous = new SchedulerAdmin(platform.cluster.schedulerUrls().get(0), null);
        assertEquals(401, wrong.regions().orElseThrow().status(), "GET /v1/regions with a wrong token");
        assertEquals(401, anonymous.regions().orElseThrow().status(), "GET /v1/regions without a token");
        assertEquals(401, wrong.failover("north", "south", MOVE_RATE, "not allowed").orElseThrow().status(),
                "POST failover with a wrong token");
        assertEquals("active", admin().state("north").orElseThrow(), "a refused failover changes nothing");
    }

    @Test
    @Order(2)
    void northFailsOverToSouthAndBackWhilePushesFlowNothingLostNoneTwice() {
        List<String> north = platform.homedIn("north");
        long dupsBefore = platform.duplicatesDropped();
        long repeatsBefore = platform.repeatsSeenByApp();
        platform.api.refusals.clear();
        platform.api.ioKinds.clear();
        pushes = SteadyPushes.start(platform.api, platform.names, platform.regIds, RATE, "north-move");
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> pushes.sent() >= RATE);

        long t0 = System.nanoTime();
        accepted(admin().failover("north", "south", MOVE_RATE, "region-failover-it: north drill"), "failover");
        List<JsonNode> over = awaitMove("north", north, "failed-over", () -> platform.sessionsIn("north") == 0
                && platform.countOn(north, "south") == north.size());
        double overSeconds = (System.nanoTime() - t0) / 1e9;

        long t1 = System.nanoTime();
        accepted(admin().failback("north", MOVE_RATE, "region-failover-it: north is healthy again"), "failback");
        List<JsonNode> back = awaitMove("north", north, "active", () -> platform.countOn(north, "north") == north.size());
        double backSeconds = (System.nanoTime() - t1) / 1e9;

        List<PushStream.Accepted> accepted = pushes.stop();
        long dupsDropped = platform.duplicatesDropped() - dupsBefore;
        Tally t = platform.settle("north move", accepted, t0, dupsDropped);
        long repeats = platform.repeatsSeenByApp() - repeatsBefore;
        rows.add(t.row());
        System.out.println(Tally.header());
        System.out.println(t.row());
        if (!platform.api.ioKinds.isEmpty()) {
            System.out.println("[push api] calls without an answer failed with " + platform.api.ioKinds);
        }
        System.out.printf("[north move] failover of %d devices at %d/s done in %.1f s (%s); failback in %.1f s (%s); "
                        + "%d copies sent twice caught by the SDK, %d seen twice by the app%n", north.size(), MOVE_RATE,
                overSeconds, summary(over), backSeconds, summary(back), dupsDropped, repeats);

        assertEverythingDeliveredOnce(t, repeats);
        assertEveryDeviceAtHome();
    }

    @Test
    @Order(3)
    void theLeaderKilledMidMoveTheOtherSchedulerFinishesIt() {
        List<String> east = platform.homedIn("east");
        long dupsBefore = platform.duplicatesDropped();
        long repeatsBefore = platform.repeatsSeenByApp();
        platform.api.refusals.clear();
        platform.api.ioKinds.clear();
        pushes = SteadyPushes.start(platform.api, platform.names, platform.regIds, RATE, "leader-kill");

        long t0 = System.nanoTime();
        String leaderId = Awaitility.await().atMost(Duration.ofSeconds(30)).until(this::leader, Optional::isPresent).get();
        SchedulerAdmin leaderApi = adminOf(leaderId);
        accepted(leaderApi.failover("east", "south", SLOW_MOVE_RATE, "region-failover-it: leader dies mid-move"),
                "failover");
        // Mid-move: some devices have left east, most are still there.
        AtomicReference<SchedulerSnapshot> atKill = new AtomicReference<>();
        Awaitility.await().atMost(MOVE_BOUND).pollInterval(Duration.ofMillis(100)).until(() -> {
            Optional<SchedulerSnapshot> s = SchedulerSnapshot.of(leaderApi, "east");
            s.ifPresent(atKill::set);
            return s.map(x -> x.moved() > 0).orElse(false);
        });
        long movedBefore = platform.countOn(east, "south");
        RoleProcess dying = platform.cluster.schedulers().stream().filter(s -> s.id().equals(leaderId)).findFirst()
                .orElseThrow();
        dying.kill();
        long killedAt = System.nanoTime();
        System.out.printf("[leader kill] %s SIGKILLed %.1f s into the move; %d of %d east devices on south; move said %s%n",
                leaderId, (killedAt - t0) / 1e9, movedBefore, east.size(), atKill.get().move());

        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> leader().filter(l -> !l.equals(leaderId)).isPresent());
        String successor = leader().orElseThrow();
        double takeover = (System.nanoTime() - killedAt) / 1e9;
        List<JsonNode> rest = awaitMove("east", east, "failed-over", () -> platform.sessionsIn("east") == 0
                && platform.countOn(east, "south") == east.size());
        double finished = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("[leader kill] %s took the lease %.1f s after the kill; the move was done %.1f s after it (%s)%n",
                successor, takeover, finished, summary(rest));

        // Back home through the survivor, so the region ends as it started.
        accepted(adminOf(successor).failback("east", MOVE_RATE, "region-failover-it: east back"), "failback");
        awaitMove("east", east, "active", () -> platform.countOn(east, "east") == east.size());

        List<PushStream.Accepted> accepted = pushes.stop();
        long dupsDropped = platform.duplicatesDropped() - dupsBefore;
        Tally t = platform.settle("leader kill", accepted, killedAt, dupsDropped);
        long repeats = platform.repeatsSeenByApp() - repeatsBefore;
        rows.add(t.row());
        System.out.println(Tally.header());
        System.out.println(t.row());
        if (!platform.api.ioKinds.isEmpty()) {
            System.out.println("[push api] calls without an answer failed with " + platform.api.ioKinds);
        }

        assertAll(
                () -> assertNotEquals(leaderId, successor, "the other instance leads"),
                () -> assertEquals("failing-over", atKill.get().state(), "the leader died mid-move"),
                () -> assertTrue(movedBefore < east.size(), "the leader died before the move was done"));
        assertEverythingDeliveredOnce(t, repeats);
        assertEquals(east.size(), platform.countOn(east, "east"), "devices of east on east's brokers");
    }

    private void assertEverythingDeliveredOnce(Tally t, long repeats) {
        assertAll(
                () -> assertEquals(List.of(), unfinished, "moves that did not finish"),
                () -> assertTrue(t.accepted() > 0, "pushes were accepted: " + t.row()),
                () -> assertEquals(0, t.lost(), "lost: " + t.row()),
                () -> assertEquals(0, t.stranded(), "stranded: " + t.row()),
                () -> assertEquals(0, t.queued(), "still queued although every device is online: " + t.row()),
                () -> assertEquals(0, t.expired(), "expired: " + t.row()),
                () -> assertEquals(t.accepted(), t.delivered(), "delivered: " + t.row()),
                () -> assertEquals(0, repeats, "messages the app got twice (after SDK de-duplication): " + t.row()),
                () -> assertEquals(0, platform.api.gaveUp.get(), "pushes never accepted within 90 s of retrying"),
                () -> assertFalse(platform.api.refusals.containsKey("500"), "the push API answered 500: " + t.row()));
    }

    private void assertEveryDeviceAtHome() {
        for (String r : REGIONS) {
            List<String> home = platform.homedIn(r);
            assertEquals(home.size(), platform.countOn(home, r), "devices of " + r + " on " + r + "'s brokers");
        }
    }

    /**
     * Polls the move until the region is in {@code state} and {@code landed} holds (devices where they belong),
     * on whichever scheduler answers. Returns the move progress documents seen on the way.
     */
    private List<JsonNode> awaitMove(String region, List<String> devices, String state,
                                     java.util.function.BooleanSupplier landed) {
        List<JsonNode> seen = new ArrayList<>();
        AtomicReference<String> last = new AtomicReference<>();
        try {
            Awaitility.await().atMost(MOVE_BOUND).pollInterval(Duration.ofMillis(250)).until(() -> {
                Optional<SchedulerSnapshot> s = SchedulerSnapshot.of(admin(), region);
                s.map(SchedulerSnapshot::move).filter(m -> m != null && !m.isMissingNode()).ifPresent(seen::add);
                last.set(s.map(SchedulerSnapshot::state).orElse("no answer"));
                return s.map(x -> state.equals(x.state())).orElse(false) && landed.getAsBoolean();
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            unfinished.add("region " + region + " not " + state + " with its devices landed within " + MOVE_BOUND
                    + ": state " + last.get() + ", sessions on its brokers " + platform.sessionsIn(region)
                    + ", its devices are on " + platform.whereAre(devices) + ", last progress "
                    + (seen.isEmpty() ? "none" : seen.get(seen.size() - 1)) + "; " + platform.diagnose(devices));
            System.out.println("[unfinished] " + unfinished.get(unfinished.size() - 1));
        }
        return seen;
    }

    /** What the move said on the way: its peak rate, its stages, whether it paused and why. */
    private static String summary(List<JsonNode> seen) {
        int peakRate = 0;
        int lastStage = -1;
        List<String> pauses = new ArrayList<>();
        for (JsonNode m : seen) {
            peakRate = Math.max(peakRate, m.path("currentRatePerSecond").asInt());
            lastStage = Math.max(lastStage, m.path("stage").asInt(-1));
            if (m.path("paused").asBoolean() && !pauses.contains(m.path("pausedReason").asText())) {
                pauses.add(m.path("pausedReason").asText());
            }
        }
        return String.format("%d progress reads, peak observed rate %d/s, last stage %d, pauses %s", seen.size(), peakRate,
                lastStage, pauses.isEmpty() ? "none" : pauses);
    }

    private static void accepted(Optional<SchedulerAdmin.Answer> a, String what) {
        SchedulerAdmin.Answer answer = a.orElseThrow(() -> new AssertionError(what + ": the scheduler did not answer"));
        assertEquals(202, answer.status(), what + " answered " + answer.raw());
    }

    /** The scheduler instance holding the leader lease ({@code schedulerId|token} in Redis). */
    private Optional<String> leader() {
        try {
            String holder = redis.async().get(Keys.schedulerLeader()).toCompletableFuture().get();
            return holder == null ? Optional.empty() : Optional.of(holder.substring(0, holder.indexOf('|')));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** The leader's admin API, or any scheduler's while none leads. */
    private SchedulerAdmin admin() {
        return leader().map(this::adminOf).orElseGet(() -> new SchedulerAdmin(
                platform.cluster.schedulerUrls().get(0), ProcessCluster.SRE_TOKEN));
    }

    private SchedulerAdmin adminOf(String schedulerId) {
        List<RoleProcess> all = platform.cluster.schedulers();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).id().equals(schedulerId)) {
                return new SchedulerAdmin(platform.cluster.schedulerUrls().get(i), ProcessCluster.SRE_TOKEN);
            }
        }
        throw new IllegalStateException("no scheduler " + schedulerId);
    }

    /** One region's state and move progress as one scheduler reports them. */
    record SchedulerSnapshot(String state, JsonNode move) {
        static Optional<SchedulerSnapshot> of(SchedulerAdmin admin, String region) {
            Optional<String> state = admin.state(region);
            if (state.isEmpty()) {
                return Optional.empty();
            }
            JsonNode move = admin.move(region).filter(a -> a.status() == 200).map(SchedulerAdmin.Answer::body).orElse(null);
            return Optional.of(new SchedulerSnapshot(state.get(), move));
        }

        long moved() {
            return move == null ? 0 : move.path("moved").asLong();
        }
    }
}
