package io.tern.dispatcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.SharedInfra;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.protocol.token.ConnectTokenSigner;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.store.app.AppRepository;
import io.tern.store.redis.RedisStore;
import io.tern.store.region.PolicyChange;
import io.tern.store.region.Region;
import io.tern.store.region.RegionPolicy;
import io.tern.store.region.RegionPolicyRepository;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dispatcher against a real Redis (the JVM's shared one) holding real registry entries
 * written by {@link BrokerRegistry#heartbeat}. Tests share the registry, so each one uses its
 * own broker ids and regions and asserts only about those.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DispatcherIT {
    /** A Redis database of this class's own, so other modules' data never shows up here. */
    private static final int DB = 7;
    /** Nothing ever registers in this one: the "no brokers at all" case. */
    private static final int EMPTY_DB = 8;
    private static final Duration REFRESH = Duration.ofMillis(200);
    private static final Duration APPS_REFRESH = Duration.ofMillis(300);
    private static final String SECRET = "dispatcher-it-secret-0123456789";
    private static final String CLIENT_KEY = "app1-client-key";
    private static final String EXAMPLE_CLIENT_KEY = "example-client-key";
    private static final AtomicInteger PORTS = new AtomicInteger(20_000);

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static RedisStore redis;
    private static BrokerRegistry registry;
    private static Dispatcher dispatcher;

    @BeforeAll
    static void start() {
        String uri = SharedInfra.redis().uri() + "/" + DB;
        redis = RedisStore.connect(uri, Duration.ofSeconds(2));
        registry = new BrokerRegistry(redis);
        dispatcher = Dispatcher.start(config(uri));
    }

    @AfterAll
    static void stop() {
        if (dispatcher != null) {
            dispatcher.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    static DispatcherConfig config(String redisUri) {
        return DispatcherConfig.from(Settings.of(Map.of(
                "dispatcher.id", "it-" + UUID.randomUUID().toString().substring(0, 8),
                "dispatcher.port", "0",
                "dispatcher.redis-uri", redisUri,
                "dispatcher.token-secret", SECRET,
                // The development device key: dev mode says so explicitly.
                "dispatcher.dev-mode", "true",
                "dispatcher.client-keys", "app1=" + CLIENT_KEY + ",com.example.app=" + EXAMPLE_CLIENT_KEY,
                "dispatcher.registry-refresh", REFRESH.toMillis() + "ms",
                "dispatcher.apps-refresh", APPS_REFRESH.toMillis() + "ms",
                // Strict least-loaded order, so a handful of registered connections decides it.
                "dispatcher.load-bucket", "1")));
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static BrokerInfo register(String region, int connections) {
        int port = PORTS.getAndAdd(3);
        BrokerInfo b = new BrokerInfo(unique("b"), region, "127.0.0.1:" + port, "127.0.0.1:" + (port + 1),
                "127.0.0.1:" + (port + 2), connections, System.currentTimeMillis());
        registry.heartbeat(b, Duration.ofMinutes(5), System.currentTimeMillis()).join();
        return b;
    }

    private static HttpResponse<String> get(Dispatcher d, String pathAndQuery) throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + d.address().getPort() + pathAndQuery);
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static JsonNode json(HttpResponse<String> r) throws IOException {
        return HttpServer.JSON.readTree(r.body());
    }

    private static RegisteredDevice device() {
        return RegisteredDevice.register(dispatcher, "app1", CLIENT_KEY);
    }

    private static JsonNode dispatch(String query) throws IOException, InterruptedException {
        HttpResponse<String> r = get(dispatcher, "/v1/dispatch?" + query);
        assertEquals(200, r.statusCode(), r.body());
        return json(r);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void homeBrokersComeLeastLoadedFirstThenOneFromEachOtherRegion() {
        String home = unique("home");
        String other = unique("other");
        BrokerInfo heavy = register(home, 30);
        BrokerInfo light = register(home, 10);
        BrokerInfo medium = register(home, 20);
        BrokerInfo heaviest = register(home, 40);
        BrokerInfo otherBusy = register(other, 5);
        BrokerInfo otherIdle = register(other, 1);

        RegisteredDevice device = device();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            JsonNode body = dispatch(device.query() + "&region=" + home);
            List<String> brokers = strings(body.get("brokers"));
            assertTrue(brokers.size() >= 4, brokers.toString());
            assertEquals(List.of(light.tcpAddress(), medium.tcpAddress(), heavy.tcpAddress()), brokers.subList(0, 3));
            assertTrue(brokers.contains(otherIdle.tcpAddress()), brokers.toString());
            assertFalse(brokers.contains(otherBusy.tcpAddress()), "one broker per other region: " + brokers);
            assertFalse(brokers.contains(heaviest.tcpAddress()), "at most 3 home brokers: " + brokers);
            assertEquals(List.of("ws://" + light.wsAddress() + "/v1/ws", "ws://" + medium.wsAddress() + "/v1/ws",
                    "ws://" + heavy.wsAddress() + "/v1/ws"), strings(body.get("wsBrokers")).subList(0, 3));
            assertEquals(home, body.get("region").asText());
        });
    }

    /** Applies {@code regionJson} (a region as the scheduler stores it) to the stored policy, as the scheduler does. */
    private static void writeRegion(RegionPolicyRepository policies, String name, String regionJson) throws Exception {
        Region region = HttpServer.JSON.readValue(regionJson, Region.class);
        RegionPolicy current = policies.load().join();
        RegionPolicy next = current.with(name, r -> region, System.currentTimeMillis());
        assertTrue(policies.replace(next, new PolicyChange(0, System.currentTimeMillis(), "it", "test", name, "DispatcherIT"))
                .join(), "no other writer in this test's database");
    }

    @Test
    void aRegionPolicyChangeReachesDispatchAnswersWithinASecondAndFailbackTurnsThemBack() throws Exception {
        String home = unique("home");
        String rescue = unique("rescue");
        BrokerInfo homeBroker = register(home, 0);
        BrokerInfo rescueBroker = register(rescue, 50);
        RegisteredDevice device = device();
        // Other tests' regions share this registry: assert only about this test's two brokers.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            List<String> brokers = strings(dispatch(device.query() + "&region=" + home).get("brokers"));
            assertEquals(homeBroker.tcpAddress(), brokers.get(0));
            assertTrue(brokers.contains(rescueBroker.tcpAddress()), brokers.toString());
        });
        RegionPolicyRepository policies = new RegionPolicyRepository(redis);

        writeRegion(policies, home, "{\"name\":\"" + home + "\",\"state\":\"failed-over\",\"servedBy\":\"" + rescue + "\"}");
        // Pushed over pub/sub; the 500 ms poll is the fallback: either way within a second.
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            JsonNode body = dispatch(device.query() + "&region=" + home);
            List<String> brokers = strings(body.get("brokers"));
            assertEquals(rescueBroker.tcpAddress(), brokers.get(0), "the serving region first: " + brokers);
            assertFalse(brokers.contains(homeBroker.tcpAddress()), "the failed-over region is evacuated: " + brokers);
            assertEquals(home, body.get("region").asText(), "the device's home region stays in the answer and token");
        });

        writeRegion(policies, home, "{\"name\":\"" + home + "\",\"state\":\"active\",\"servedBy\":\"" + home + "\"}");
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                assertEquals(homeBroker.tcpAddress(), strings(dispatch(device.query() + "&region=" + home).get("brokers")).get(0)));
    }

    @Test
    void deregisteredBrokerDisappearsWithinTheRefreshPeriod() throws Exception {
        String home = unique("home");
        BrokerInfo leaving = register(home, 0);
        BrokerInfo staying = register(home, 5);
        RegisteredDevice device = device();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertTrue(strings(dispatch(device.query() + "&region=" + home).get("brokers")).contains(leaving.tcpAddress())));

        registry.deregister(leaving.id()).join();

        // One refresh period plus the read itself; allow a few periods for a loaded machine.
        await().atMost(REFRESH.multipliedBy(5)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            List<String> brokers = strings(dispatch(device.query() + "&region=" + home).get("brokers"));
            assertFalse(brokers.contains(leaving.tcpAddress()), brokers.toString());
            assertEquals(staying.tcpAddress(), brokers.get(0));
        });
    }

    @Test
    void brokerWhoseLivenessKeyExpiredDisappears() throws Exception {
        String home = unique("home");
        Duration ttl = Duration.ofMillis(800);
        // Listed first under a long TTL: on a loaded machine the first refresh may come later than a short one.
        BrokerInfo silent = register(home, 0);
        register(home, 5);
        RegisteredDevice device = device();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertTrue(strings(dispatch(device.query() + "&region=" + home).get("brokers")).contains(silent.tcpAddress())));

        // A last heartbeat with a short TTL, then none: the key expires, and the next refresh drops it.
        registry.heartbeat(silent, ttl, System.currentTimeMillis()).join();
        await().atMost(ttl.plus(REFRESH.multipliedBy(5)).plusSeconds(5)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                assertFalse(strings(dispatch(device.query() + "&region=" + home).get("brokers")).contains(silent.tcpAddress())));
    }

    @Test
    void tokenVerifiesWithTheSharedSecretAndCarriesTheDevice() {
        String home = unique("home");
        register(home, 0);

        RegisteredDevice device = RegisteredDevice.register(dispatcher, "com.example.app", EXAMPLE_CLIENT_KEY);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            long before = System.currentTimeMillis();
            JsonNode body = dispatch(device.query() + "&region=" + home);
            var verified = new ConnectTokenSigner(SECRET.getBytes(StandardCharsets.UTF_8))
                    .verify(body.get("token").asText(), System.currentTimeMillis());
            assertTrue(verified.valid(), verified.detail());
            assertEquals("com.example.app", verified.claims().appId());
            assertEquals(device.regId(), verified.claims().regId());
            assertEquals(home, verified.claims().region());
            long expiresAt = body.get("expiresAt").asLong();
            assertEquals(expiresAt, verified.claims().expiresAtMillis());
            assertTrue(expiresAt >= before + Duration.ofHours(1).toMillis() - 1000, "default token ttl is 1h");
        });
    }

    @Test
    void missingOrInvalidAppIdIsBadRequestNamingAppId() throws Exception {
        for (String query : List.of("regId=reg1", "appId=&regId=reg1", "appId=bad%20app&regId=reg1",
                "appId=" + "a".repeat(129) + "&regId=reg1")) {
            HttpResponse<String> r = get(dispatcher, "/v1/dispatch?" + query);
            assertEquals(400, r.statusCode(), query + " -> " + r.body());
            JsonNode body = json(r);
            assertEquals("invalid_field", body.get("code").asText());
            assertEquals("appId", body.get("field").asText());
            assertFalse(body.get("message").asText().isBlank());
        }
    }

    @Test
    void missingRegIdIsBadRequestNamingRegId() throws Exception {
        HttpResponse<String> r = get(dispatcher, "/v1/dispatch?appId=app1");

        assertEquals(400, r.statusCode(), r.body());
        assertEquals("invalid_field", json(r).get("code").asText());
        assertEquals("regId", json(r).get("field").asText());
    }

    @Test
    void noLiveBrokerAnywhereIsServiceUnavailable() throws Exception {
        try (Dispatcher empty = Dispatcher.start(config(SharedInfra.redis().uri() + "/" + EMPTY_DB))) {
            HttpResponse<String> r = get(empty, "/v1/dispatch?" + RegisteredDevice.register(empty, "app1", CLIENT_KEY).query());

            assertEquals(503, r.statusCode(), r.body());
            assertEquals("no_brokers", json(r).get("code").asText());
            // An empty registry is a fact, not a failure: the dispatcher itself is healthy.
            assertEquals(200, get(empty, "/health").statusCode());
        }
    }

    @Test
    void healthIsUpAndMetricsShowRequestsAndOutcomes() throws Exception {
        HttpResponse<String> health = get(dispatcher, "/health");
        assertEquals(200, health.statusCode(), health.body());
        assertEquals("UP", json(health).get("checks").get("registry").asText());

        get(dispatcher, "/v1/dispatch?appId=app1");
        get(dispatcher, "/v1/dispatch?appId=app1&regId=never-issued");
        RegisteredDevice.postRegister(dispatcher, "{\"appId\":\"app1\",\"clientKey\":\"wrong-key-0\"}");
        HttpResponse<String> metrics = get(dispatcher, "/metrics");
        assertEquals(200, metrics.statusCode());
        String text = metrics.body();
        assertTrue(text.contains("http_server_requests"), "latency histogram from HttpServer");
        assertTrue(text.contains("route=\"/v1/dispatch\""), "per-route tag");
        assertTrue(text.contains("dispatcher_dispatches_total{") && text.contains("outcome=\"invalid_field\""),
                "dispatch outcome counter");
        assertTrue(text.contains("dispatcher_dispatches_total{") && text.contains("outcome=\"unauthorized\""),
                "refused dispatches are counted");
        assertTrue(text.contains("dispatcher_registrations_total{"), "registration outcome counter");
        assertTrue(text.contains("dispatcher_live_brokers"), "snapshot size gauge");
        assertTrue(text.contains("dispatcher_registry_age_seconds"), "snapshot age gauge");
        assertTrue(text.contains("dispatcher_stored_apps "), "stored apps gauge");
    }

    @Test
    void registerIssuesDistinctRegIdsAndRefusesWrongClientKeysAndMalformedBodies() throws Exception {
        RegisteredDevice a = device();
        RegisteredDevice b = device();
        assertFalse(a.regId().equals(b.regId()), "a new regId at every registration");
        assertFalse(a.deviceSecret().equals(b.deviceSecret()));
        assertTrue(a.regId().matches("[0-9a-f]{32}"), a.regId());

        HttpResponse<String> wrongKey = RegisteredDevice.postRegister(dispatcher,
                "{\"appId\":\"app1\",\"clientKey\":\"" + EXAMPLE_CLIENT_KEY + "\"}");
        assertEquals(401, wrongKey.statusCode(), wrongKey.body());
        assertEquals("unauthorized", json(wrongKey).get("code").asText());

        HttpResponse<String> unknownApp = RegisteredDevice.postRegister(dispatcher,
                "{\"appId\":\"nope\",\"clientKey\":\"" + CLIENT_KEY + "\"}");
        assertEquals(401, unknownApp.statusCode(), unknownApp.body());

        HttpResponse<String> noKey = RegisteredDevice.postRegister(dispatcher, "{\"appId\":\"app1\"}");
        assertEquals(400, noKey.statusCode(), noKey.body());
        assertEquals("clientKey", json(noKey).get("field").asText());
    }

    @Test
    void aDeviceOfAnAppCreatedAtRunTimeRegistersWithinTheAppsRefreshAndAWrongKeyIsRefused() throws Exception {
        String appId = unique("created");
        String clientKey = "client-key-of-" + appId;
        String body = "{\"appId\":\"" + appId + "\",\"clientKey\":\"" + clientKey + "\"}";
        assertEquals(401, RegisteredDevice.postRegister(dispatcher, body).statusCode(), "not created yet: unknown");

        // What the logic node's admin API writes on `ternctl app create`.
        assertEquals(AppRepository.Created.CREATED, new AppRepository(redis, 10_000)
                .create(appId, "key-" + appId, "secret-" + appId, clientKey, System.currentTimeMillis()).join());
        await().atMost(APPS_REFRESH.multipliedBy(2).plusSeconds(1)).pollInterval(Duration.ofMillis(50))
                .until(() -> RegisteredDevice.postRegister(dispatcher, body).statusCode() == 200);

        String home = unique("home");
        BrokerInfo broker = register(home, 0);
        RegisteredDevice device = RegisteredDevice.register(dispatcher, appId, clientKey);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            JsonNode answer = dispatch(device.query() + "&region=" + home);
            assertEquals(broker.tcpAddress(), strings(answer.get("brokers")).get(0));
            assertEquals(appId, new ConnectTokenSigner(SECRET.getBytes(StandardCharsets.UTF_8))
                    .verify(answer.get("token").asText(), System.currentTimeMillis()).claims().appId());
        });

        for (String wrong : List.of(clientKey + "x", CLIENT_KEY, "secret-" + appId)) {
            HttpResponse<String> r = RegisteredDevice.postRegister(dispatcher,
                    "{\"appId\":\"" + appId + "\",\"clientKey\":\"" + wrong + "\"}");
            assertEquals(401, r.statusCode(), wrong + " -> " + r.body());
        }
    }

    @Test
    void aDispatchWithoutTheDevicesOwnFreshSignatureGetsNoToken() throws Exception {
        register(unique("home"), 0);
        RegisteredDevice victim = device();
        RegisteredDevice attacker = device();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> dispatch(victim.query()));
        long now = System.currentTimeMillis();

        // Unsigned, as every device dispatched before registration existed.
        assertUnauthorized(get(dispatcher, "/v1/dispatch?appId=app1&regId=" + victim.regId()));
        // Someone who knows the victim's regId (its app server, a log line) but not its secret.
        RegisteredDevice impostor = new RegisteredDevice("app1", victim.regId(), attacker.deviceSecret());
        assertUnauthorized(get(dispatcher, "/v1/dispatch?" + impostor.query(now)));
        // A regId the platform never issued, with any secret.
        assertUnauthorized(get(dispatcher, "/v1/dispatch?"
                + new RegisteredDevice("app1", "made-up-device", attacker.deviceSecret()).query(now)));
        // The victim's own signature, but stale (or from the future) beyond five minutes.
        assertUnauthorized(get(dispatcher, "/v1/dispatch?" + victim.query(now - Duration.ofMinutes(6).toMillis())));
        assertUnauthorized(get(dispatcher, "/v1/dispatch?" + victim.query(now + Duration.ofMinutes(6).toMillis())));
        // The victim's signature does not transfer to another regId or app.
        String signed = victim.query(now);
        assertUnauthorized(get(dispatcher, "/v1/dispatch?" + signed.replace(victim.regId(), attacker.regId())));
        assertUnauthorized(get(dispatcher, "/v1/dispatch?" + signed.replace("appId=app1", "appId=com.example.app")));

        assertEquals(200, get(dispatcher, "/v1/dispatch?" + signed).statusCode());
    }

    private static void assertUnauthorized(HttpResponse<String> r) throws IOException {
        assertEquals(401, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals("unauthorized", body.get("code").asText());
        assertFalse(body.has("token"), "no token issued");
    }

    @Test
    void listensOnTheConfiguredEndpoint() {
        assertEquals("127.0.0.1", dispatcher.address().getAddress().getHostAddress());
        assertTrue(dispatcher.address().getPort() > 0);
        assertEquals(new HttpEndpoint("127.0.0.1", 0), dispatcher.config().http());
    }
}
