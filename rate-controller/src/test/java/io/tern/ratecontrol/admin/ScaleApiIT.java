package io.tern.ratecontrol.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.devstack.SharedInfra;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SRE scale API of a real rate controller on a real Redis (a database of this class's own); scaling itself is
 * off here (the scaler has its own tests), the floors are what is under test.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ScaleApiIT {
    private static final int DB = 10;
    private static final String TOKEN = "scale-api-it-token-0123";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static RedisStore redis;
    private RateController controller;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri() + "/" + DB, Duration.ofSeconds(2));
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }

    @BeforeEach
    void start() {
        redis.async().flushdb().toCompletableFuture().join();
        controller = RateController.start(config());
    }

    @AfterEach
    void stop() {
        if (controller != null) {
            controller.close();
        }
    }

    private static RateControllerConfig config() {
        return RateControllerConfig.from(Settings.of(Map.of(
                "ratecontrol.port", "0",
                "ratecontrol.redis-uri", SharedInfra.redis().uri() + "/" + DB,
                "ratecontrol.sre-token", TOKEN,
                "ratecontrol.dev-mode", "true")));
    }

    private HttpResponse<String> call(String method, String path, String body, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.address().getPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + r.body(), e);
        }
    }

    private JsonNode scale() {
        HttpResponse<String> r = call("GET", "/v1/scale", null, TOKEN);
        assertEquals(200, r.statusCode(), r.body());
        return json(r);
    }

    private void assertBadField(String body, String field) {
        HttpResponse<String> r = call("POST", "/v1/scale/floors", body, TOKEN);
        assertEquals(400, r.statusCode(), body + " -> " + r.body());
        assertEquals("invalid_field", json(r).path("code").asText(), r.body());
        assertEquals(field, json(r).path("field").asText(), body + " -> " + r.body());
    }

    @Test
    void everyScaleCallNeedsTheSreToken() {
        assertEquals(401, call("GET", "/v1/scale", null, null).statusCode());
        assertEquals(401, call("POST", "/v1/scale/floors", "{\"replicas\":2,\"for\":\"5m\"}", "wrong-token-0123456").statusCode());
        assertEquals(401, call("DELETE", "/v1/scale/floors/x", null, null).statusCode());
    }

    @Test
    void aFloorIsScheduledShownAndDeleted() {
        Instant at = Instant.now().plus(Duration.ofHours(1));
        HttpResponse<String> created = call("POST", "/v1/scale/floors",
                "{\"at\":\"" + at + "\",\"replicas\":6,\"for\":\"30m\",\"reason\":\"match final\"}", TOKEN);
        assertEquals(201, created.statusCode(), created.body());
        JsonNode floor = json(created);
        String id = floor.path("id").asText();
        assertTrue(id.startsWith("sre-"), created.body());
        assertEquals(at.toEpochMilli(), floor.path("from").asLong());
        assertEquals(at.toEpochMilli() + Duration.ofMinutes(30).toMillis(), floor.path("until").asLong());
        assertEquals(6, floor.path("replicas").asInt());
        assertEquals("sre: match final", floor.path("reason").asText());

        JsonNode shown = scale();
        assertEquals("off", shown.path("mode").asText());
        assertEquals(0, shown.path("activeFloors").size());
        assertEquals(1, shown.path("upcomingFloors").size());
        assertEquals(id, shown.path("upcomingFloors").get(0).path("id").asText());

        // Epoch ms works too, and a floor from now is active at once.
        HttpResponse<String> now = call("POST", "/v1/scale/floors",
                "{\"at\":" + System.currentTimeMillis() + ",\"replicas\":3,\"for\":\"10m\",\"id\":\"drill-1\"}", TOKEN);
        assertEquals(201, now.statusCode(), now.body());
        assertEquals("drill-1", scale().path("activeFloors").get(0).path("id").asText());

        HttpResponse<String> deleted = call("DELETE", "/v1/scale/floors/" + id, null, TOKEN);
        assertEquals(200, deleted.statusCode(), deleted.body());
        assertEquals(0, scale().path("upcomingFloors").size());
        HttpResponse<String> again = call("DELETE", "/v1/scale/floors/" + id, null, TOKEN);
        assertEquals(404, again.statusCode());
        assertEquals("floor_not_found", json(again).path("code").asText());
    }

    @Test
    void badInputNamesTheField() {
        assertBadField("{\"for\":\"30m\"}", "replicas");
        assertBadField("{\"replicas\":0,\"for\":\"30m\"}", "replicas");
        assertBadField("{\"replicas\":\"six\",\"for\":\"30m\"}", "replicas");
        assertBadField("{\"replicas\":2}", "for");
        assertBadField("{\"replicas\":2,\"for\":\"soon\"}", "for");
        assertBadField("{\"replicas\":2,\"for\":\"30d\"}", "for");
        assertBadField("{\"at\":\"tomorrow\",\"replicas\":2,\"for\":\"30m\"}", "at");
        assertBadField("{\"at\":1000,\"replicas\":2,\"for\":\"30m\"}", "at");
        assertBadField("{\"replicas\":2,\"for\":\"30m\",\"id\":\"no spaces\"}", "id");
        assertBadField("[1,2]", "body");
        assertBadField("not json", "body");
    }

    @Test
    void floorsSurviveAControllerRestart() {
        HttpResponse<String> created = call("POST", "/v1/scale/floors",
                "{\"replicas\":4,\"for\":\"1h\",\"id\":\"peak\"}", TOKEN);
        assertEquals(201, created.statusCode(), created.body());
        controller.close();
        controller = RateController.start(config());
        JsonNode shown = scale();
        assertEquals(1, shown.path("activeFloors").size(), shown.toString());
        assertEquals("peak", shown.path("activeFloors").get(0).path("id").asText());
        assertEquals(4, shown.path("activeFloors").get(0).path("replicas").asInt());
    }
}
