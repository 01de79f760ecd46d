package io.tern.broker.region;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Sessions;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stop's paced drain on a manual clock (its pauses advance it), with embedded channels as devices. */
class ShutdownRedirectsTest {
    private static final List<String> PEERS = List.of("p1:9000", "p2:9000", "p3:9000", "p4:9000");

    private final Sessions sessions = new Sessions("b1", 1L, 64);
    private final Disconnects disconnects = new Disconnects(new BrokerMetrics(new SimpleMeterRegistry()), Duration.ofSeconds(1));
    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    private ShutdownRedirects drain(int rate, Duration max) {
        return new ShutdownRedirects(rate, max, disconnects, nanos::get, n -> {
            nanos.addAndGet(n);
            return true;
        }, new SplittableRandom(7));
    }

    private void connect(int count, boolean webSocket) {
        for (int i = 0; i < count; i++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            sessions.open("app", (webSocket ? "ws-" : "tcp-") + channels.size(), "north", ch, webSocket);
            channels.add(ch);
        }
    }

    @Test
    void redirectsEveryDeviceNoFasterThanTheRateNamingUpToThreePeers() {
        connect(20, false);
        long start = nanos.get();

        int sent = drain(100, Duration.ofSeconds(20)).drain(sessions.all(), PEERS).size();

        assertEquals(20, sent);
        // 20 at 100/s: the 20th leaves 190 ms after the first, and the drain waits no longer than that (one tick).
        long took = nanos.get() - start;
        assertTrue(took >= 190_000_000L && took <= 200_000_000L, "took " + took / 1e6 + " ms");
        for (EmbeddedChannel ch : channels) {
            Frame.Redirect r = assertInstanceOf(Frame.Redirect.class, ch.readOutbound());
            assertEquals(ReasonCode.SERVER_SHUTTING_DOWN, r.reason());
            assertEquals(3, r.addresses().size(), r.addresses().toString());
            assertTrue(PEERS.containsAll(r.addresses()), r.addresses().toString());
        }
    }

    @Test
    void stopsAtTheBoundAndLeavesTheRestForTheDisconnect() {
        connect(20, false);

        int sent = drain(100, Duration.ofMillis(50)).drain(sessions.all(), PEERS).size();

        // Due at 0, 10, .., 40 ms: five before the 50 ms bound.
        assertEquals(5, sent);
        assertEquals(5, channels.stream().filter(ch -> ch.readOutbound() != null).count());
        assertEquals(15, sessions.all().stream().filter(s -> s.usable()).count(), "the rest are still open, not closing");
    }

    @Test
    void webSocketDevicesAndDevicesWithoutALivePeerAreToldToReDispatch() {
        connect(2, true);
        connect(2, false);

        assertEquals(4, drain(1000, Duration.ofSeconds(1)).drain(sessions.all(), List.of()).size());

        for (EmbeddedChannel ch : channels) {
            Frame.Redirect r = assertInstanceOf(Frame.Redirect.class, ch.readOutbound());
            assertEquals(List.of(), r.addresses(), "no address: ask the dispatcher again");
        }
        assertNull(channels.get(0).readOutbound(), "one redirect each");
    }
}
