package io.tern.broker;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.client.dispatch.DeviceCredentials;
import io.tern.client.PushListener;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.client.net.EventLoops;
import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.frame.RetryAfter;
import io.tern.protocol.token.ConnectToken;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.store.redis.RedisStore;
import io.tern.store.region.PolicyChange;
import io.tern.store.region.Region;
import io.tern.store.region.RegionPolicy;
import io.tern.store.region.RegionPolicyRepository;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.ConnectStats;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Region moves on real brokers (real Redis, real Kafka) with real SDK devices: the region policy is
 * written through {@link RegionPolicyRepository} as the global scheduler writes it; the brokers of
 * the moving region redirect the covered sessions at their share of the rate, in stages, not while
 * paused; the devices re-dispatch. The dispatcher is stood in by a one-route HTTP server that, like
 * the real one, sends a device to the brokers of the region serving its home region (the home is
 * the part of the regId before ':') and puts the home in the token. Each test uses its own region
 * names, so the shared policy's other regions do not matter.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RegionMoveIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private static RedisStore redis;
    private static RegionPolicyRepository policies;
    private static EventLoopGroup deviceLoops;
    private static HttpServer dispatcher;
    /** Brokers by region, what the stand-in dispatcher offers. */
    private static final Map<String, List<Broker>> BROKERS = new ConcurrentHashMap<>();

    private final List<TernClient> devices = new ArrayList<>();
    private final List<Broker> started = new ArrayList<>();

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        policies = new RegionPolicyRepository(redis);
        deviceLoops = EventLoops.newGroup(2, "region-move-it-devices");
        dispatcher = HttpServer.builder("test-dispatcher", new SimpleMeterRegistry())
                .route(HttpMethod.GET, "/v1/dispatch", req -> {
                    String regId = req.queryParam("regId");
                    String home = regId.substring(0, regId.indexOf(':'));
                    return policies.load().thenApply(policy -> {
                        List<String> tcp = new ArrayList<>();
                        for (Broker b : BROKERS.getOrDefault(policy.servingRegion(home), List.of())) {
                            tcp.add("127.0.0.1:" + b.tcpAddress().getPort());
                        }
                        long expiresAt = System.currentTimeMillis() + 120_000;
                        String token = TestBrokers.SIGNER.sign(new ConnectToken(req.queryParam("appId"), regId, home,
                                expiresAt));
                        return HttpResponse.ok(Map.of("brokers", tcp, "wsBrokers", List.of(), "token", token,
                                "expiresAt", expiresAt, "region", home));
                    });
                })
                .start(new HttpEndpoint("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() {
        if (dispatcher != null) {
            dispatcher.close();
        }
        if (deviceLoops != null) {
            deviceLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void closeAll() {
        devices.forEach(TernClient::closeAsync);
        devices.forEach(TernClient::close);
        started.forEach(Broker::close);
    }

    private static String region(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 6);
    }

    private Broker broker(String region, Map<String, String> more) {
        Map<String, String> m = new java.util.HashMap<>(more);
        m.put("broker.region", region);
        m.putIfAbsent("broker.admission-rate", "0");
        m.put("broker.region-policy-poll", "200ms");
        m.put("broker.region-registry-refresh", "200ms");
        Broker b = Broker.start(TestBrokers.config(m));
        started.add(b);
        BROKERS.computeIfAbsent(region, r -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(b);
        return b;
    }

    private TernClient device(String app, String home, int n) {
        TernClient c = TernClient.builder()
                .dispatcher(URI.create("http://127.0.0.1:" + dispatcher.address().getPort()))
                .appId(app)
                .credentials(new DeviceCredentials(home + ":" + n, "unchecked-by-the-stand-in"))
                .eventLoopGroup(deviceLoops)
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofSeconds(2))
                .listener(new PushListener() {
                    @Override
                    public void onMessage(PushMessage message) {
                    }
                })
                .build();
        devices.add(c);
        c.start();
        return c;
    }

    private List<TernClient> devices(String app, String home, int count) {
        List<TernClient> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(device(app, home, i));
        }
        return out;
    }

    private static void awaitConnected(List<TernClient> clients) {
        await().atMost(AWAIT).until(() -> clients.stream().allMatch(c -> c.state() == TernClient.State.CONNECTED));
    }

    /** Sets {@code name} in the stored policy (compare-and-set, retried), as the scheduler does; returns the version. */
    private static long write(String name, String state, String servedBy, String moveJson) throws Exception {
        String json = "{\"name\":\"" + name + "\",\"state\":\"" + state + "\",\"servedBy\":\"" + servedBy + "\",\"move\":"
                + (moveJson == null ? "null" : moveJson) + "}";
        Region region = JSON.readValue(json, Region.class);
        for (int attempt = 0; attempt < 20; attempt++) {
            RegionPolicy current = policies.load().get(5, TimeUnit.SECONDS);
            RegionPolicy next = current.with(name, r -> region, System.currentTimeMillis());
            if (policies.replace(next, new PolicyChange(0, System.currentTimeMillis(), "it", state, name, "RegionMoveIT"))
                    .get(5, TimeUnit.SECONDS)) {
                return next.version();
            }
        }
        throw new AssertionError("could not write the region policy");
    }

    /** The version the next write will get: moves are keyed by the version that started them. */
    private static long nextVersion() throws Exception {
        return policies.load().get(5, TimeUnit.SECONDS).version() + 1;
    }

    private static String move(long id, String direction, String from, String to, int rate, double fraction,
                               boolean paused) {
        return "{\"id\":" + id + ",\"direction\":\"" + direction + "\",\"from\":\"" + from + "\",\"to\":\"" + to
                + "\",\"ratePerSecond\":" + rate + ",\"stage\":0,\"stageFraction\":" + fraction + ",\"paused\":" + paused
                + ",\"pausedReason\":" + (paused ? "\"test\"" : "null") + ",\"startedAtMillis\":" + System.currentTimeMillis()
                + "}";
    }

    private static double redirects(Broker b) {
        Counter c = b.observability().registry().find("tern.broker.redirects").tag("reason", "region_moved").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aFailoverMoveRedirectsAtItsPacedRateStopsAtTheStageFractionWhilePausedAndMovesEveryoneAtOne() throws Exception {
        String north = region("north");
        String south = region("south");
        String app = TestBrokers.uniqueApp();
        Broker from = broker(north, Map.of());
        Broker to = broker(south, Map.of());
        List<TernClient> fleet = devices(app, north, 60);
        awaitConnected(fleet);
        assertEquals(60, from.connectionCount());

        int rate = 10;
        long id = nextVersion();
        long t0 = System.nanoTime();
        write(north, "failing-over", south, move(id, "failover", north, south, rate, 0.5, false));
        // Paced: never more than the rate allows since the write (plus a tick's carry-over); a slower machine only
        // makes it slower. The stage ends with half of the 60 sessions left.
        await().atMost(AWAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            double sent = redirects(from);
            double allowed = rate * (System.nanoTime() - t0) / 1e9 + 3;
            assertTrue(sent <= allowed, "sent " + sent + " redirects, the rate allows " + allowed);
            return from.connectionCount() == 30 && to.connectionCount() == 30;
        });
        double firstStage = (System.nanoTime() - t0) / 1e9;
        assertTrue(firstStage >= (30 - 3) / (double) rate, "30 redirects at 10/s took " + firstStage + " s");
        assertEquals(30.0, redirects(from), "the stage's share and no more");
        // The stage is done: nothing more leaves until the next stage.
        await().during(Duration.ofSeconds(2)).atMost(AWAIT).until(() -> from.connectionCount() == 30);

        // The next stage, paused: still nothing leaves.
        write(north, "failing-over", south, move(id, "failover", north, south, rate, 1.0, true));
        await().during(Duration.ofSeconds(2)).atMost(AWAIT).until(() -> from.connectionCount() == 30 && redirects(from) == 30);

        // Resumed at fraction 1: everyone, including a device that connects to the moving region meanwhile.
        write(north, "failing-over", south, move(id, "failover", north, south, 100, 1.0, false));
        await().atMost(AWAIT).until(() -> from.connectionCount() == 0 && to.connectionCount() == 60);
        awaitConnected(fleet);
        try (FrameClient late = FrameClient.tcp(from.tcpAddress())) {
            late.connect(app, north + ":late", token(app, north + ":late", north));
            Object next = late.next(AWAIT);
            Frame.Redirect r = org.junit.jupiter.api.Assertions.assertInstanceOf(Frame.Redirect.class, next);
            assertEquals(ReasonCode.REGION_MOVED, r.reason());
            assertEquals(List.of("127.0.0.1:" + to.tcpAddress().getPort()), r.addresses(), "the target region's live broker: land there directly");
        }

        // Failed over: the region's brokers refuse every CONNECT with REGION_MOVED.
        write(north, "failed-over", south, null);
        await().atMost(AWAIT).untilAsserted(() -> {
            try (FrameClient refused = FrameClient.tcp(from.tcpAddress())) {
                refused.send(new Frame.Connect(app, north + ":refused", token(app, north + ":refused", north), 0));
                refused.expectDisconnect(ReasonCode.REGION_MOVED);
            }
        });
        assertEquals(60, to.connectionCount(), "the moved devices stay where they landed");
    }

    private static String token(String app, String regId, String home) {
        return TestBrokers.SIGNER.sign(new ConnectToken(app, regId, home, System.currentTimeMillis() + 60_000));
    }

    @Test
    void aFailbackMovesOnlyTheSessionsWhoseHomeIsTheRegionMovingBack() throws Exception {
        String north = region("north");
        String south = region("south");
        String app = TestBrokers.uniqueApp();
        // North is failed over to south: north's devices are on south's broker, with south's own.
        write(north, "failed-over", south, null);
        Broker southBroker = broker(south, Map.of());
        List<TernClient> northHomed = devices(app, north, 20);
        List<TernClient> southHomed = devices(app, south, 15);
        awaitConnected(northHomed);
        awaitConnected(southHomed);
        assertEquals(35, southBroker.connectionCount());
        BrokerRegistry registry = new BrokerRegistry(redis);
        await().atMost(AWAIT).until(() -> Map.of(north, 20, south, 15).equals(homes(registry, southBroker)));

        Broker northBroker = broker(north, Map.of());
        write(north, "failing-back", north, move(nextVersion(), "failback", south, north, 50, 1.0, false));

        await().atMost(AWAIT).until(() -> northBroker.connectionCount() == 20 && southBroker.connectionCount() == 15);
        await().atMost(AWAIT).until(() -> Map.of(south, 15).equals(homes(registry, southBroker))
                && Map.of(north, 20).equals(homes(registry, northBroker)));
        assertEquals(20.0, redirects(southBroker), "only north's devices were redirected");
        await().during(Duration.ofSeconds(1)).atMost(AWAIT).until(() -> southBroker.connectionCount() == 15);
    }

    private static Map<String, Integer> homes(BrokerRegistry registry, Broker b) throws Exception {
        for (BrokerInfo info : registry.live().get(5, TimeUnit.SECONDS)) {
            if (info.id().equals(b.id())) {
                return info.homes();
            }
        }
        return Map.of();
    }

    private static ConnectStats connects(BrokerRegistry registry, Broker b) throws Exception {
        for (BrokerInfo info : registry.live().get(5, TimeUnit.SECONDS)) {
            if (info.id().equals(b.id())) {
                return info.connects();
            }
        }
        return ConnectStats.NONE;
    }

    @Test
    void theAdmissionCapRefusesBeyondTheBurstWithARetryHintAndTheSdkComesBackLater() throws Exception {
        String east = region("east");
        String app = TestBrokers.uniqueApp();
        Broker b = broker(east, Map.of("broker.admission-rate", "5", "broker.admission-burst", "5",
                "broker.busy-retry-hint", "300ms"));
        List<FrameClient> first = new ArrayList<>();
        try {
            Frame.Disconnect busy = null;
            for (int i = 0; i < 50 && busy == null; i++) {
                FrameClient c = FrameClient.tcp(b.tcpAddress());
                first.add(c);
                String reg = east + ":raw" + i;
                c.send(new Frame.Connect(app, reg, token(app, reg, east), 0));
                Object reply = c.next(AWAIT);
                if (reply instanceof Frame.Disconnect d) {
                    busy = d;
                }
            }
            assertTrue(busy != null, "a CONNECT beyond the burst is refused");
            assertEquals(ReasonCode.SERVER_BUSY, busy.reason());
            long hint = RetryAfter.parse(busy.message());
            assertTrue(hint >= 300 && hint < 600, "jittered hint in [300, 600) ms: " + busy.message());

            List<TernClient> fleet = devices(app, east, 20);
            awaitConnected(fleet);
            long waits = fleet.stream().mapToLong(c -> c.stats().busyWaits()).sum();
            assertTrue(waits > 0, "20 devices at 5/s: some were told to come back later");
            BrokerRegistry registry = new BrokerRegistry(redis);
            await().atMost(AWAIT).untilAsserted(() -> {
                ConnectStats s = connects(registry, b);
                assertEquals(first.size() - 1 + 20, s.admitted(), s.toString());
                assertTrue(s.refused() >= waits + 1, s.toString());
                assertEquals(5, s.admissionPerSecond());
            });
            assertEquals(20 + first.size() - 1, b.connectionCount());
        } finally {
            first.forEach(FrameClient::close);
        }
    }
}
