package io.tern.local.region;

import io.tern.devstack.process.RoleProcess;
import io.tern.local.chaos.PushStream;
import io.tern.local.chaos.Tally;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A region that dies without any policy change: every broker of east SIGKILLed while {@value #DEVICES} devices
 * (a third of them homed in east) are connected and single pushes flow at {@value #RATE}/s. East's devices fall
 * back by themselves, with the SDK's jittered backoff, to the other regions' brokers their dispatch answer listed
 * after their home's; nothing accepted is lost. Prints how long until every one was reconnected and the peak
 * connect rate each surviving broker took (its CONNACKs per second over any 1 s window).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegionDeathIT {
    static final List<String> REGIONS = List.of("north", "south", "east");
    static final String DYING = "east";
    static final int DEVICES = 3_000;
    static final int RATE = 100;
    static final Duration RECONNECT_BOUND = Duration.ofSeconds(90);

    private RegionPlatform platform;
    /** The stream of the running test: stopped after it even when it failed half-way. */
    private SteadyPushes pushes;

    @BeforeAll
    void start() {
        platform = RegionPlatform.start("region-death", REGIONS, REGIONS.size(), 1, 0, DEVICES, Map.of());
    }

    @AfterEach
    void stopPushing() {
        if (pushes != null) {
            pushes.close();
        }
    }

    @AfterAll
    void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void everyBrokerOfARegionKilledItsDevicesReconnectElsewhereByThemselvesNothingLost() {
        List<String> east = platform.homedIn(DYING);
        assertEquals(east.size(), platform.countOn(east, DYING), "east's devices start at home");
        List<RoleProcess> survivors = new ArrayList<>(platform.cluster.brokers());
        survivors.removeAll(platform.cluster.brokersIn(DYING));
        long dupsBefore = platform.duplicatesDropped();
        long repeatsBefore = platform.repeatsSeenByApp();

        pushes = SteadyPushes.start(platform.api, platform.names, platform.regIds, RATE, "region-death");
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> pushes.sent() >= RATE);
        long killedAt;
        double allBack;
        Map<String, Double> peaks;
        Map<String, Double> admitted;
        try (ConnectRates rates = new ConnectRates(survivors)) {
            killedAt = System.nanoTime();
            platform.cluster.brokersIn(DYING).forEach(RoleProcess::kill);
            Awaitility.await().atMost(RECONNECT_BOUND).pollInterval(Duration.ofMillis(100)).until(() ->
                    east.stream().allMatch(d -> !platform.onBrokerOf(d, DYING) && platform.online(d)));
            allBack = (System.nanoTime() - killedAt) / 1e9;
            // Samples a window past the last landing, so every window of the storm is measured.
            long landedAt = System.nanoTime();
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> rates.sampledAfter(landedAt + ConnectRates.WINDOW.toNanos()));
            peaks = rates.peakPerSecond();
            admitted = rates.admitted();
        }
        List<PushStream.Accepted> accepted = pushes.stop();
        long dupsDropped = platform.duplicatesDropped() - dupsBefore;
        Tally t = platform.settle("east dies", accepted, killedAt, dupsDropped);
        long repeats = platform.repeatsSeenByApp() - repeatsBefore;
        System.out.println(Tally.header());
        System.out.println(t.row());
        if (!platform.api.ioKinds.isEmpty()) {
            System.out.println("[push api] calls without an answer failed with " + platform.api.ioKinds);
        }
        Map<String, Long> landed = new java.util.TreeMap<>();
        for (String r : REGIONS) {
            landed.put(r, platform.countOn(east, r));
        }
        System.out.printf("[region death] %d devices of %s reconnected within %.1f s of the kill, landed %s; "
                        + "sessions admitted per surviving broker %s, peak connect rate per surviving broker (/s over %d ms) %s%n",
                east.size(), DYING, allBack, landed, admitted, ConnectRates.WINDOW.toMillis(), peaks);

        assertAll(
                () -> assertEquals(east.size(), landed.entrySet().stream().filter(e -> !e.getKey().equals(DYING))
                        .mapToLong(Map.Entry::getValue).sum(), "east's devices on the other regions' brokers"),
                () -> assertTrue(t.accepted() > 0, "pushes were accepted: " + t.row()),
                () -> assertEquals(0, t.lost(), "lost: " + t.row()),
                () -> assertEquals(0, t.stranded(), "stranded: " + t.row()),
                () -> assertEquals(0, t.queued(), "still queued although every device is online: " + t.row()),
                () -> assertEquals(t.accepted(), t.delivered(), "delivered: " + t.row()),
                () -> assertEquals(0, repeats, "messages the app got twice (after SDK de-duplication): " + t.row()),
                () -> assertEquals(0, platform.api.gaveUp.get(), "pushes never accepted within 90 s of retrying"),
                () -> assertFalse(platform.api.refusals.containsKey("500"), "the push API answered 500: " + t.row()));
    }
}
