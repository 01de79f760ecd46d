package io.tern.scheduler.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.SharedInfra;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.GlobalScheduler;
import io.tern.scheduler.config.SchedulerConfig;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.ConnectStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tern.scheduler.SchedulerFixture.TOKEN;
import static io.tern.scheduler.SchedulerFixture.call;
import static io.tern.scheduler.SchedulerFixture.get;
import static io.tern.scheduler.SchedulerFixture.json;
import static io.tern.scheduler.SchedulerFixture.post;
import static io.tern.scheduler.SchedulerFixture.region;
import static io.tern.scheduler.SchedulerFixture.report;
import static io.tern.scheduler.SchedulerFixture.unique;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API of a real scheduler on a real Redis (a database of this class's own), with broker
 * reports written to the registry as brokers write them. Tests share the scheduler: each uses regions
 * of its own.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminApiIT {
    private static final int DB = 6;
    private static RedisStore redis;
    private static BrokerRegistry registry;
    private static GlobalScheduler scheduler;
    private static int port;

    @BeforeAll
    static void start() {
        String uri = SharedInfra.redis().uri() + "/" + DB;
        redis = RedisStore.connect(uri, Duration.ofSeconds(2));
        redis.async().flushdb().toCompletableFuture().join();
        registry = new BrokerRegistry(redis);
        scheduler = GlobalScheduler.start(SchedulerConfig.from(Settings.of(Map.of(
                "scheduler.port", "0",
                "scheduler.redis-uri", uri,
                "scheduler.sre-token", TOKEN,
                "scheduler.dev-mode", "true",
                "scheduler.regions", "local",
                "scheduler.registry-refresh", "100ms",
                "scheduler.tick", "100ms",
                "scheduler.max-rate", "10000"))));
        port = scheduler.address().getPort();
    }

    @AfterAll
    static void stop() {
        if (scheduler != null) {
            scheduler.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    /** Regions with one broker each holding {@code connections}; returned once the scheduler lists them all. */
    private static List<String> regions(int connections, String... prefixes) {
        List<String> names = new ArrayList<>();
        for (String p : prefixes) {
            String name = unique(p);
            report(registry, unique("b"), name, connections, Map.of(name, connections), ConnectStats.NONE);
            names.add(name);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> names.stream().allMatch(n -> region(port, n) != null));
        return names;
    }

    private static void assertError(HttpResponse<String> r, int status, String code, String field) {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals(code, body.get("code").asText(), r.body());
        assertTrue(body.hasNonNull("message"), r.body());
        if (field == null) {
            assertFalse(body.has("field"), r.body());
        } else {
            assertEquals(field, body.path("field").asText(), r.body());
        }
    }

    private static String failoverBody(String to, int rate) {
        return "{\"to\":\"" + to + "\",\"ratePerSecond\":" + rate + ",\"reason\":\"drill\"}";
    }

    @Test
    void everyCallNeedsTheSreToken() {
        String[][] calls = {{"GET", "/v1/regions"}, {"GET", "/v1/regions/history"}, {"GET", "/v1/regions/local/move"},
                {"POST", "/v1/regions/local/failover"}, {"POST", "/v1/regions/local/failback"}};
        for (String[] c : calls) {
            String body = c[0].equals("POST") ? "{}" : null;
            assertError(call(port, c[0], c[1], body, null, null), 401, "unauthorized", null);
            assertError(call(port, c[0], c[1], body, "wrong-token-0123456789", null), 401, "unauthorized", null);
            assertError(call(port, c[0], c[1], body, TOKEN + "x", null), 401, "unauthorized", null);
        }
        assertEquals(200, get(port, "/v1/regions").statusCode());
        assertEquals(200, call(port, "GET", "/health", null, null, null).statusCode(), "health needs no token");
    }

    @Test
    void listsEachRegionWithItsStateLiveBrokersAndConnections() {
        String name = unique("list");
        report(registry, unique("b"), name, 7, Map.of(), ConnectStats.NONE);
        report(registry, unique("b"), name, 5, Map.of(), ConnectStats.NONE);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            JsonNode r = region(port, name);
            return r != null && r.get("brokers").asInt() == 2;
        });
        HttpResponse<String> resp = get(port, "/v1/regions");
        JsonNode body = json(resp);
        assertTrue(body.get("version").asLong() >= 0);
        assertEquals("\"" + body.get("version").asLong() + "\"", resp.headers().firstValue("ETag").orElse(null));
        JsonNode row = region(port, name);
        assertEquals("active", row.get("state").asText());
        assertEquals(name, row.get("servedBy").asText());
        assertEquals(12, row.get("connections").asInt());
        assertFalse(row.has("move"), "no move under way");
        assertNotNull(region(port, "local"), "configured regions are listed without brokers");
        assertEquals(0, region(port, "local").get("brokers").asInt());
    }

    @Test
    void unknownRegionsAre404() {
        List<String> r = regions(10, "known");
        assertError(post(port, "/v1/regions/nowhere/failover", failoverBody(r.get(0), 100)), 404, "region_not_found", null);
        assertError(post(port, "/v1/regions/nowhere/failback", "{}"), 404, "region_not_found", null);
        assertError(get(port, "/v1/regions/nowhere/move"), 404, "region_not_found", null);
        assertError(post(port, "/v1/regions/" + r.get(0) + "/failover", failoverBody("nowhere", 100)), 404,
                "region_not_found", "to");
    }

    @Test
    void badFieldsAre400NamingTheField() {
        List<String> r = regions(10, "from", "to");
        String path = "/v1/regions/" + r.get(0) + "/failover";
        assertError(post(port, path, failoverBody(r.get(0), 100)), 400, "invalid_field", "to");
        assertError(post(port, path, "{\"ratePerSecond\":100}"), 400, "invalid_field", "to");
        assertError(post(port, path, failoverBody(r.get(1), 0)), 400, "invalid_field", "ratePerSecond");
        assertError(post(port, path, failoverBody(r.get(1), 10_001)), 400, "invalid_field", "ratePerSecond");
        assertError(post(port, path, "{\"to\":\"" + r.get(1) + "\",\"ratePerSecond\":\"fast\"}"), 400,
                "invalid_field", "ratePerSecond");
        assertError(post(port, path, "{\"to\":"), 400, "invalid_field", "body");
        assertError(post(port, "/v1/regions/" + r.get(0) + "/failback", "{\"ratePerSecond\":-5}"), 400,
                "invalid_field", "ratePerSecond");
        assertError(get(port, "/v1/regions/history?limit=0"), 400, "invalid_field", "limit");
        assertEquals("active", region(port, r.get(0)).get("state").asText(), "nothing changed");
    }

    @Test
    void failoverStartsAPacedMoveThatTheMoveEndpointReports() {
        List<String> r = regions(1000, "north", "south");
        String north = r.get(0);
        String south = r.get(1);
        long before = json(get(port, "/v1/regions")).get("version").asLong();
        HttpResponse<String> resp = post(port, "/v1/regions/" + north + "/failover",
                "{\"to\":\"" + south + "\",\"ratePerSecond\":250,\"reason\":\"north DC power\"}");
        assertEquals(202, resp.statusCode(), resp.body());
        long version = json(resp).get("version").asLong();
        assertTrue(version > before);

        JsonNode row = region(port, north);
        assertEquals("failing-over", row.get("state").asText());
        assertEquals(south, row.get("servedBy").asText());
        JsonNode move = row.get("move");
        assertEquals("failover", move.get("direction").asText());
        assertEquals(north, move.get("from").asText());
        assertEquals(south, move.get("to").asText());
        assertEquals(0, move.get("stage").asInt());
        assertEquals(0.01, move.get("stageFraction").asDouble());
        assertEquals(250, move.get("ratePerSecond").asInt());

        // The leader counts the covered devices at the move's first tick.
        await().atMost(Duration.ofSeconds(30)).until(() ->
                json(get(port, "/v1/regions/" + north + "/move")).get("coveredAtStart").asLong() == 1000);
        JsonNode progress = json(get(port, "/v1/regions/" + north + "/move"));
        assertTrue(progress.get("moving").asBoolean());
        assertEquals(1000, progress.get("left").asLong());
        assertEquals(0, progress.get("moved").asLong());
        assertFalse(progress.get("paused").asBoolean());
        assertTrue(progress.get("pausedReason").isNull());
        assertEquals(4, progress.get("stages").asInt());
        assertNotNull(progress.get("startedAt").asText());
        assertTrue(progress.has("currentRatePerSecond"));

        List<JsonNode> history = new ArrayList<>();
        json(get(port, "/v1/regions/history?limit=50")).get("changes").forEach(history::add);
        JsonNode sre = history.stream().filter(c -> c.get("version").asLong() == version).findFirst().orElseThrow();
        assertEquals("sre", sre.get("by").asText());
        assertEquals("failover", sre.get("action").asText());
        assertEquals(north, sre.get("region").asText());
        assertTrue(sre.get("detail").asText().contains("north DC power"), sre.toString());
        assertTrue(sre.get("at").asText().endsWith("Z"));
        assertTrue(history.stream().anyMatch(c -> c.get("action").asText().equals("start")
                        && c.get("region").asText().equals(north) && c.get("by").asText().startsWith("scheduler:")),
                "the scheduler's own step is logged too: " + history);
        long newest = history.get(0).get("version").asLong();
        for (JsonNode c : history) {
            assertTrue(c.get("version").asLong() <= newest, "newest first");
            newest = c.get("version").asLong();
        }
    }

    @Test
    void aRegionAlreadyMovingOrATargetThatIsFailedOverIs409() {
        List<String> r = regions(1000, "a", "b", "c");
        String a = r.get(0);
        String b = r.get(1);
        String c = r.get(2);
        assertEquals(202, post(port, "/v1/regions/" + a + "/failover", failoverBody(b, 100)).statusCode());
        assertError(post(port, "/v1/regions/" + a + "/failover", failoverBody(c, 100)), 409, "region_moving", null);
        assertError(post(port, "/v1/regions/" + a + "/failback", "{}"), 409, "region_moving", null);
        assertError(post(port, "/v1/regions/" + c + "/failover", failoverBody(a, 100)), 409, "target_unavailable", null);
        assertError(post(port, "/v1/regions/" + b + "/failover", failoverBody(c, 100)), 409, "region_moving", null);
        assertError(post(port, "/v1/regions/" + c + "/failback", "{}"), 409, "region_not_failed_over", null);
        String empty = unique("empty");
        report(registry, unique("b"), empty, 0, Map.of(), ConnectStats.NONE);
        await().atMost(Duration.ofSeconds(30)).until(() -> region(port, empty) != null);
        assertEquals(202, post(port, "/v1/regions/" + empty + "/failover", failoverBody(c, 100)).statusCode());
        await().atMost(Duration.ofSeconds(30)).until(() -> region(port, empty).get("state").asText().equals("failed-over"));
        assertError(post(port, "/v1/regions/" + c + "/failover", failoverBody(empty, 100)), 409, "target_unavailable", null);
        assertError(post(port, "/v1/regions/" + empty + "/failover", failoverBody(c, 100)), 409, "region_not_active", null);
    }

    @Test
    void aStaleIfMatchVersionIs409AndTheCurrentOneIsAccepted() {
        List<String> r = regions(1000, "x", "y");
        long version = json(get(port, "/v1/regions")).get("version").asLong();
        // Another change moves the policy on.
        List<String> other = regions(1000, "p", "q");
        await().atMost(Duration.ofSeconds(30)).until(() -> json(get(port, "/v1/regions")).get("version").asLong() > version);
        assertError(call(port, "POST", "/v1/regions/" + r.get(0) + "/failover", failoverBody(r.get(1), 100), TOKEN,
                Long.toString(version)), 409, "version_conflict", "If-Match");
        assertEquals("active", region(port, r.get(0)).get("state").asText());
        assertNotNull(other);
        // The scheduler keeps stepping (regions added, moves counted): retry with a fresh read until the
        // version read is still current when the write lands, as an SRE would.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            HttpResponse<String> list = get(port, "/v1/regions");
            String etag = list.headers().firstValue("ETag").orElseThrow();
            HttpResponse<String> w = call(port, "POST", "/v1/regions/" + r.get(0) + "/failover",
                    failoverBody(r.get(1), 100), TOKEN, etag);
            if (w.statusCode() == 409) {
                assertEquals("version_conflict", json(w).get("code").asText(), w.body());
                return false;
            }
            assertEquals(202, w.statusCode(), w.body());
            assertEquals(Long.parseLong(etag.replace("\"", "")) + 1, json(w).get("version").asLong());
            return true;
        });
    }

    @Test
    void aMoveEndsFailedOverThenFailbackEndsActiveAndTheMoveEndpointShowsTheLastOne() {
        List<String> r = regions(0, "home", "away");
        String home = r.get(0);
        String away = r.get(1);
        String homeBroker = unique("b");
        report(registry, homeBroker, home, 3, Map.of(home, 3), ConnectStats.NONE);
        assertEquals(202, post(port, "/v1/regions/" + home + "/failover", failoverBody(away, 100)).statusCode());
        await().atMost(Duration.ofSeconds(30)).until(() ->
                json(get(port, "/v1/regions/" + home + "/move")).get("coveredAtStart").asLong() == 3);
        // The devices leave home and land away (homes still say where they belong).
        String awayBroker = unique("b");
        report(registry, homeBroker, home, 0, Map.of(), ConnectStats.NONE);
        report(registry, awayBroker, away, 3, Map.of(home, 3), ConnectStats.NONE);
        await().atMost(Duration.ofSeconds(30)).until(() -> region(port, home).get("state").asText().equals("failed-over"));
        JsonNode row = region(port, home);
        assertEquals(away, row.get("servedBy").asText());
        assertFalse(row.has("move"));
        JsonNode last = json(get(port, "/v1/regions/" + home + "/move"));
        assertFalse(last.get("moving").asBoolean());
        assertEquals(3, last.get("moved").asLong());
        assertEquals(0, last.get("left").asLong());
        assertNotNull(last.get("finishedAt"));

        HttpResponse<String> back = post(port, "/v1/regions/" + home + "/failback",
                "{\"ratePerSecond\":100,\"reason\":\"power is back\"}");
        assertEquals(202, back.statusCode(), back.body());
        row = region(port, home);
        assertEquals("failing-back", row.get("state").asText());
        assertEquals(home, row.get("servedBy").asText());
        assertEquals(away, row.get("move").get("from").asText());
        assertEquals(home, row.get("move").get("to").asText());
        await().atMost(Duration.ofSeconds(30)).until(() ->
                json(get(port, "/v1/regions/" + home + "/move")).get("coveredAtStart").asLong() == 3);
        report(registry, awayBroker, away, 0, Map.of(), ConnectStats.NONE);
        await().atMost(Duration.ofSeconds(30)).until(() -> region(port, home).get("state").asText().equals("active"));
        assertEquals("failback", json(get(port, "/v1/regions/" + home + "/move")).get("direction").asText());
        List<String> actions = new ArrayList<>();
        json(get(port, "/v1/regions/history?limit=200")).get("changes").forEach(c -> {
            if (c.get("region").asText().equals(home)) {
                actions.add(0, c.get("action").asText());
            }
        });
        assertEquals("failover", actions.get(0));
        assertEquals("start", actions.get(1));
        assertEquals("done", actions.get(actions.size() - 1));
        assertTrue(actions.containsAll(List.of("failback", "stage")), actions.toString());
        assertNull(row.get("move").get("pausedReason").textValue());
    }

    @Test
    void healthSaysLeaderAndMetricsShowRegionsAndMoves() {
        await().atMost(Duration.ofSeconds(30)).until(scheduler::leader);
        assertEquals("leader", json(call(port, "GET", "/health", null, null, null)).get("role").asText());
        List<String> r = regions(40, "m1", "m2");
        assertEquals(202, post(port, "/v1/regions/" + r.get(0) + "/failover", failoverBody(r.get(1), 100)).statusCode());
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String metrics = call(port, "GET", "/metrics", null, null, null).body();
            return metrics.contains("tern_scheduler_leader{") && metrics.matches("(?s).*tern_scheduler_leader\\{[^}]*} 1\\.0.*")
                    && metrics.matches("(?s).*tern_scheduler_move_left\\{[^}]*region=\"" + r.get(0) + "\"[^}]*} 40\\.0.*")
                    && metrics.matches("(?s).*tern_scheduler_region_connections\\{[^}]*region=\"" + r.get(1) + "\"[^}]*} 40\\.0.*")
                    && metrics.contains("tern_scheduler_policy_version");
        });
    }
}
