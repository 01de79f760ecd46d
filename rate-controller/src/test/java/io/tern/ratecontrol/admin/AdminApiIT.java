package io.tern.ratecontrol.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.SharedInfra;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.ThrottleDirective;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tern.ratecontrol.ControllerFixture.TOKEN;
import static io.tern.ratecontrol.ControllerFixture.call;
import static io.tern.ratecontrol.ControllerFixture.json;
import static io.tern.ratecontrol.ControllerFixture.report;
import static io.tern.ratecontrol.ControllerFixture.settings;
import static io.tern.ratecontrol.ControllerFixture.throttle;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SRE admin API of one controller on the real Redis, with broker heartbeats in the real registry: the status
 * it shows, an override the controller leaves alone until released, every refused request (status, code and the
 * field named), and a stored directive that is not valid being replaced.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminApiIT {
    private static final int DB = 11;
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static RedisStore redis;
    private static RateController controller;
    private static DirectiveRepository directives;
    private static int port;

    @BeforeAll
    static void start() {
        String uri = SharedInfra.redis().uri() + "/" + DB;
        redis = RedisStore.connect(uri, Duration.ofSeconds(2));
        redis.async().flushdb().toCompletableFuture().join();
        directives = new DirectiveRepository(redis);
        BrokerRegistry registry = new BrokerRegistry(redis);
        report(registry, "b-eu-1", "eu", 3_000, 500);
        report(registry, "b-eu-2", "eu", 3_000, 400);
        report(registry, "b-us-1", "us", 4_000, 100);
        controller = RateController.start(RateControllerConfig.from(Settings.of(settings("rc-admin", uri,
                Map.of("ratecontrol.min-dwell", "1s", "ratecontrol.region-caps", "eu:5000",
                        "ratecontrol.max-permit", "1000000")))));
        port = controller.address().getPort();
        await().atMost(AWAIT).until(() -> directives.load().join().version() >= 1);
    }

    @AfterAll
    static void stop() {
        if (controller != null) {
            controller.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static HttpResponse<String> put(String body) {
        return call(port, "PUT", "/v1/throttle", body, TOKEN);
    }

    private static void assertRefused(HttpResponse<String> r, int status, String code, String field) {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals(code, body.path("code").asText(), r.body());
        assertTrue(body.path("message").asText().length() > 5, r.body());
        if (field != null) {
            assertEquals(field, body.path("field").asText(), r.body());
        }
    }

    @Test
    void statusShowsTheDirectiveAndTheLoadPerRegionAndInTotalWithTheLeader() {
        await().atMost(AWAIT).untilAsserted(() -> {
            JsonNode s = throttle(port);
            assertEquals("open", s.path("state").asText(), s.toString());
            assertEquals(9_000, s.path("capacityPerSecond").asLong(), "eu capped at 5000 of 6000, us 4000; " + s);
            assertEquals(1_000, s.path("downstreamPerSecond").asDouble(), 1e-9);
            assertEquals(7_200, s.path("directive").path("permitPerSecond").asLong(), s.toString());
            assertEquals("controller", s.path("directive").path("source").asText());
            assertEquals("rc-admin", s.path("leader").asText());
            assertTrue(s.path("heartbeatAgeMillis").isNumber(), s.toString());
            JsonNode eu = s.path("regions").get(0);
            assertEquals("eu", eu.path("name").asText());
            assertEquals(2, eu.path("brokers").asInt());
            assertEquals(5_000, eu.path("capacityPerSecond").asLong());
            assertEquals(5_000, eu.path("cappedBy").asLong());
            assertEquals(900, eu.path("downstreamPerSecond").asDouble(), 1e-9);
            assertEquals("us", s.path("regions").get(1).path("name").asText());
        });
        HttpResponse<String> health = call(port, "GET", "/health", null, null);
        assertEquals(200, health.statusCode(), health.body());
        String metrics = call(port, "GET", "/metrics", null, null).body();
        for (String m : new String[]{"tern_ratecontrol_permit", "tern_ratecontrol_state", "tern_ratecontrol_capacity",
                "tern_ratecontrol_downstream", "tern_ratecontrol_directive_changes_total", "tern_ratecontrol_leader"}) {
            assertTrue(metrics.contains(m), m + " missing from /metrics");
        }
    }

    @Test
    void everyCallNeedsTheSreToken() {
        assertRefused(call(port, "GET", "/v1/throttle", null, null), 401, "unauthorized", null);
        assertRefused(call(port, "PUT", "/v1/throttle", "{\"ratePerSecond\":5}", "wrong-token-0123456789"), 401,
                "unauthorized", null);
        assertRefused(call(port, "DELETE", "/v1/throttle", null, null), 401, "unauthorized", null);
        assertRefused(call(port, "GET", "/v1/throttle/history", null, "x"), 401, "unauthorized", null);
    }

    @Test
    void aBadOverrideIsRefusedNamingTheField() {
        long before = directives.load().join().version();
        assertRefused(put("{\"ratePerSecond\":-1}"), 400, "invalid_field", "ratePerSecond");
        assertRefused(put("{\"ratePerSecond\":1000001}"), 400, "invalid_field", "ratePerSecond");
        assertRefused(put("{\"ratePerSecond\":99999999999999999999}"), 400, "invalid_field", "ratePerSecond");
        assertRefused(put("{\"ratePerSecond\":12.5}"), 400, "invalid_field", "ratePerSecond");
        assertRefused(put("{\"ratePerSecond\":\"100\"}"), 400, "invalid_field", "ratePerSecond");
        assertRefused(put("{\"reason\":\"no rate\"}"), 400, "invalid_field", "ratePerSecond");
        assertRefused(put("{\"ratePerSecond\":100,\"reason\":7}"), 400, "invalid_field", "reason");
        assertRefused(put("{\"ratePerSecond\":100,\"reason\":\"" + "x".repeat(501) + "\"}"), 400, "invalid_field",
                "reason");
        assertRefused(put("[100]"), 400, "invalid_field", "body");
        assertRefused(put("{not json"), 400, "invalid_field", "body");
        assertRefused(call(port, "PUT", "/v1/throttle", null, TOKEN), 400, "invalid_field", "body");
        assertRefused(call(port, "GET", "/v1/throttle/history?limit=0", null, TOKEN), 400, "invalid_field", "limit");
        assertRefused(call(port, "GET", "/v1/throttle/history?limit=ten", null, TOKEN), 400, "invalid_field", "limit");
        assertEquals(before, directives.load().join().version(), "nothing refused was written");
    }

    @Test
    void anOverrideIsLeftAloneByTheControllerUntilReleased() {
        HttpResponse<String> set = put("{\"ratePerSecond\":1234,\"reason\":\"drill\"}");
        assertEquals(200, set.statusCode(), set.body());
        long version = json(set).path("version").asLong();
        ThrottleDirective d = directives.load().join();
        assertEquals(version, d.version());
        assertEquals(1234, d.permitPerSecond());
        assertTrue(d.setBySre());
        assertEquals("throttled", d.state().wire(), "below the open permit: a throttle");

        // Many ticks and well past the dwell: the controller would set 7200/s, but the override stays.
        long beat = directives.lastHeartbeat().join();
        await().atMost(AWAIT).until(() -> directives.lastHeartbeat().join() > beat + 1_500);
        assertEquals(version, directives.load().join().version());
        assertEquals("drill", json(call(port, "GET", "/v1/throttle/history?limit=1", null, TOKEN))
                .path("changes").get(0).path("reason").asText());

        HttpResponse<String> released = call(port, "DELETE", "/v1/throttle", null, TOKEN);
        assertEquals(200, released.statusCode(), released.body());
        ThrottleDirective after = directives.load().join();
        assertEquals(version + 1, after.version());
        assertEquals("controller", after.source());
        assertEquals(7_200, after.permitPerSecond(), "decided from the load at once: 80 % of 9000");
        assertTrue(after.reason().startsWith("released by sre"), after.reason());
        JsonNode latest = json(call(port, "GET", "/v1/throttle/history?limit=2", null, TOKEN)).path("changes");
        assertEquals(version + 1, latest.get(0).path("version").asLong(), "newest first");
        assertEquals("sre", latest.get(0).path("by").asText());
        assertEquals(version, latest.get(1).path("version").asLong());

        assertRefused(call(port, "DELETE", "/v1/throttle", null, TOKEN), 409, "not_overridden", null);
    }

    @Test
    void aStoredDirectiveWithANegativeOrAbsurdRateIsReplacedByTheLeader() {
        for (String rate : new String[]{"-5", "1000000000000"}) {
            long version = directives.load().join().version();
            // What a bad hand edit or a buggy writer could leave: the repository itself never writes this.
            String bad = "{\"version\":" + (version + 1) + ",\"state\":\"throttled\",\"permitPerSecond\":" + rate
                    + ",\"source\":\"controller\",\"reason\":\"bad\",\"issuedAtMillis\":1}";
            redis.async().hset(Keys.throttleDirective(), Map.of("v", Long.toString(version + 1), "json", bad))
                    .toCompletableFuture().join();
            // Until the leader replaces it, reading fails as it does for obeyers (they keep their last good one).
            await().atMost(AWAIT).ignoreExceptionsInstanceOf(java.util.concurrent.CompletionException.class)
                    .untilAsserted(() -> {
                        ThrottleDirective d = directives.load().join();
                        assertEquals(version + 2, d.version());
                        assertEquals(7_200, d.permitPerSecond());
                        assertTrue(d.reason().startsWith("replaced a stored directive that was not valid"), d.reason());
                    });
        }
        assertTrue(call(port, "GET", "/metrics", null, null).body().lines()
                .anyMatch(l -> l.startsWith("tern_ratecontrol_directive_rejected_total") && !l.endsWith(" 0.0")));
    }
}
