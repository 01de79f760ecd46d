package io.tern.broker.region;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Session;
import io.tern.broker.session.Sessions;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.region.RegionPolicy;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mover's pacing and selection, tick by tick on a manual clock, with embedded channels as devices. */
class RegionMoverTest {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Duration TICK = Duration.ofMillis(100);

    private final Sessions sessions = new Sessions("b1", 1L, 64);
    private final Disconnects disconnects = new Disconnects(new BrokerMetrics(new SimpleMeterRegistry()), Duration.ofSeconds(1));
    private final AtomicReference<RegionPolicy> policy = new AtomicReference<>(RegionPolicy.EMPTY);
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AtomicInteger liveBrokers = new AtomicInteger(1);
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    /** The addresses each REDIRECT read so far named. */
    private final List<List<String>> redirectAddresses = new ArrayList<>();

    private RegionMover mover(String brokerRegion, int batchMax) {
        return new RegionMover("b1", brokerRegion, sessions, disconnects, policy::get, this::addressesOf, TICK,
                batchMax, nanos::get, new SplittableRandom(42));
    }

    /** {@code liveBrokers} brokers in every region: b-{region}-{i}:9000. */
    private List<String> addressesOf(String region) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < liveBrokers.get(); i++) {
            out.add(region + "-" + i + ":9000");
        }
        return out;
    }

    private void connect(String home, int count) {
        for (int i = 0; i < count; i++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            Session s = sessions.open("app", home + "-" + i, home, ch, false).session();
            // What SessionHandler does when the connection closes.
            ch.closeFuture().addListener(f -> sessions.remove(s));
            channels.add(ch);
        }
    }

    private int redirected(String home) {
        int n = 0;
        for (EmbeddedChannel ch : channels) {
            Object out = ch.readOutbound();
            if (out != null) {
                Frame.Redirect r = assertInstanceOf(Frame.Redirect.class, out);
                assertEquals(ReasonCode.REGION_MOVED, r.reason());
                redirectAddresses.add(r.addresses());
                n++;
            }
        }
        return n;
    }

    private void ticks(RegionMover m, int n) {
        for (int i = 0; i < n; i++) {
            nanos.addAndGet(TICK.toNanos());
            m.tick();
        }
    }

    private void policy(String region, String state, String servedBy, long id, String direction, String from, String to,
                        int rate, double fraction, boolean paused) throws Exception {
        String move = "{\"id\":" + id + ",\"direction\":\"" + direction + "\",\"from\":\"" + from + "\",\"to\":\"" + to
                + "\",\"ratePerSecond\":" + rate + ",\"stage\":0,\"stageFraction\":" + fraction + ",\"paused\":" + paused
                + ",\"startedAtMillis\":0}";
        policy.set(JSON.readValue("{\"version\":" + id + ",\"updatedAtMillis\":0,\"regions\":[{\"name\":\"" + region
                + "\",\"state\":\"" + state + "\",\"servedBy\":\"" + servedBy + "\",\"move\":" + move + "}]}",
                RegionPolicy.class));
    }

    @Test
    void aFailoverRedirectsAtTheRateUntilTheStageFractionHasLeftAndNotWhilePaused() throws Exception {
        connect("north", 20);
        connect("south", 5); // on a north broker: a failover moves everyone here
        RegionMover m = mover("north", 100);
        policy("north", "failing-over", "south", 3, "failover", "north", "south", 10, 0.5, false);
        m.tick(); // first sight: 25 held, nothing owed yet
        assertEquals(0, redirected("any"));

        ticks(m, 5);
        int first = redirected("any");
        assertTrue(first >= 3 && first <= 5, "10/s over 0.5 s: at most 5, got " + first);

        ticks(m, 50);
        assertEquals(13 - first, redirected("any"), "25 held, half to leave: 13 in all");
        assertEquals(12, sessions.size());

        policy("north", "failing-over", "south", 3, "failover", "north", "south", 10, 1.0, true);
        ticks(m, 50);
        assertEquals(0, redirected("any"), "paused");

        policy("north", "failing-over", "south", 3, "failover", "north", "south", 10, 1.0, false);
        ticks(m, 2);
        assertTrue(redirected("any") <= 2, "resumed at the rate, not with a burst");
        connect("north", 3); // connects during the last stage: covered too
        ticks(m, 200);
        redirected("any");
        assertEquals(0, sessions.size());
    }

    @Test
    void eachBrokerSendsItsShareOfTheRateAndAtMostTheBatchPerTick() throws Exception {
        connect("north", 200);
        liveBrokers.set(4);
        RegionMover m = mover("north", 7);
        policy("north", "failing-over", "south", 5, "failover", "north", "south", 40, 1.0, false);
        m.tick();
        ticks(m, 10); // 40/s over 4 brokers: 10/s here, 10 in a second
        int shared = redirected("any");
        assertTrue(shared >= 8 && shared <= 10, "a quarter of 40/s for 1 s: " + shared);

        liveBrokers.set(1);
        policy("north", "failing-over", "south", 5, "failover", "north", "south", 1000, 1.0, false);
        ticks(m, 3);
        assertTrue(redirected("any") <= 3 * 7, "at most redirect-batch-max per tick");
    }

    @Test
    void aFailbackRedirectsOnlyTheSessionsWhoseHomeIsTheRegionGoingBack() throws Exception {
        connect("north", 10);
        connect("south", 10);
        RegionMover m = mover("south", 100);
        policy("north", "failing-back", "north", 9, "failback", "south", "north", 1000, 1.0, false);
        m.tick();
        ticks(m, 20);
        int n = 0;
        for (int i = 0; i < channels.size(); i++) {
            Object out = channels.get(i).readOutbound();
            if (out != null) {
                assertTrue(i < 10, "only north's sessions (the first ten) are redirected, got #" + i);
                n++;
            }
        }
        assertEquals(10, n);
        assertEquals(10, sessions.size());
        assertEquals(java.util.Map.of("south", 10), sessions.homes().snapshot());
    }

    @Test
    void aMoveFromAnotherRegionRedirectsNothingHere() throws Exception {
        connect("north", 10);
        RegionMover m = mover("east", 100);
        policy("north", "failing-over", "south", 3, "failover", "north", "south", 1000, 1.0, false);
        m.tick();
        ticks(m, 10);
        assertEquals(0, redirected("any"));
    }

    @Test
    void redirectsNameUpToThreeBrokersOfTheTargetRegionFromVaryingStartsAndWebSocketsNone() throws Exception {
        connect("north", 40);
        EmbeddedChannel ws = new EmbeddedChannel();
        sessions.open("app", "web-1", "north", ws, true);
        liveBrokers.set(4);
        RegionMover m = mover("north", 100);
        policy("north", "failing-over", "south", 3, "failover", "north", "south", 1000, 1.0, false);
        m.tick();
        ticks(m, 20);
        assertEquals(40, redirected("any"));
        List<String> south = addressesOf("south");
        java.util.Set<String> firsts = new java.util.HashSet<>();
        for (List<String> a : redirectAddresses) {
            assertEquals(3, a.size(), "three target brokers of four: " + a);
            assertTrue(south.containsAll(a), "only the target region's brokers: " + a);
            assertEquals(3, new java.util.HashSet<>(a).size(), "no broker twice: " + a);
            firsts.add(a.get(0));
        }
        assertTrue(firsts.size() > 1, "devices do not all try the same broker first: " + firsts);
        Frame.Redirect toWs = assertInstanceOf(Frame.Redirect.class, ws.readOutbound());
        assertEquals(List.of(), toWs.addresses(), "a WebSocket session re-dispatches (TCP addresses are no use to it)");
    }
}
