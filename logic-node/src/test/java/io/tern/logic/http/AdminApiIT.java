package io.tern.logic.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.app.AppRepository;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The logic node's SRE admin API on a real node, real Redis and Kafka: an app created through it authenticates and
 * pushes at once, a rotated secret stops signing, limits set through it are what admission enforces, an SRE sees and
 * recalls any app's task; bad input is a 4xx naming the field, and nothing without the SRE token.
 */
class AdminApiIT {
    private static final String TOKEN = "logic-admin-it-sre-token-0123456789";
    private static final String CONFIGURED = "cfg-" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LogicNode node;

    @BeforeAll
    static void start() {
        node = LogicNode.start(LogicConfig.from(Settings.of(Map.of(
                "logic.port", "0",
                "logic.dev-mode", "true",
                "logic.redis-uri", SharedInfra.redis().uri(),
                "logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers(),
                "logic.sre-token", TOKEN,
                "logic.apps." + CONFIGURED + ".key", "configured-key",
                "logic.apps." + CONFIGURED + ".secret", "configured-secret"))));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static String newAppId() {
        return "adm-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private record Reply(int status, JsonNode json, String raw) {
    }

    private static Reply call(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.address().getPort() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body()), r.body());
    }

    private static Reply admin(String method, String path, String body) throws Exception {
        return call(method, path, body, TOKEN);
    }

    private static Reply auth(String appId, String appKey, String secret) throws Exception {
        long ts = System.currentTimeMillis();
        String body = JSON.createObjectNode().put("appId", appId).put("appKey", appKey).put("timestamp", ts)
                .put("sign", AppAuthenticator.sign(appId, appKey, ts, secret)).toString();
        return call("POST", "/v1/auth", body, null);
    }

    private static Reply pushWith(String authToken, String path, String body) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.address().getPort() + path))
                .header(PushApi.AUTH_HEADER, authToken).POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> resp = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
        return new Reply(resp.statusCode(), JSON.readTree(resp.body()), resp.body());
    }

    private static void assertField(Reply r, int status, String field) {
        assertEquals(status, r.status(), r.raw());
        assertEquals(field, r.json().path("field").asText(null), r.raw());
        assertFalse(r.json().path("message").asText("").isBlank(), r.raw());
    }

    @Test
    void aCreatedAppAuthenticatesAtOnceAndARotatedSecretStopsSigning() throws Exception {
        String appId = newAppId();
        Reply created = admin("POST", "/v1/admin/apps", "{\"appId\":\"" + appId + "\",\"rate\":50}");
        assertEquals(201, created.status(), created.raw());
        String key = created.json().path("appKey").asText();
        String secret = created.json().path("appSecret").asText();
        assertEquals(64, secret.length(), created.raw());
        String clientKey = created.json().path("clientKey").asText();
        assertEquals(64, clientKey.length(), created.raw());
        assertNotEquals(secret, clientKey);
        assertEquals("admin", created.json().path("source").asText());
        assertEquals(50, created.json().path("limits").path("rate").asInt());
        assertEquals(200, auth(appId, key, secret).status());

        Reply shown = admin("GET", "/v1/admin/apps/" + appId, null);
        assertEquals(200, shown.status(), shown.raw());
        assertFalse(shown.raw().contains(secret), "a secret is shown once, when it is made");
        assertFalse(shown.raw().contains(clientKey), "so is the client key");

        Reply rotated = admin("POST", "/v1/admin/apps/" + appId + "/rotate-secret", null);
        assertEquals(200, rotated.status(), rotated.raw());
        String next = rotated.json().path("appSecret").asText();
        assertNotEquals(secret, next);
        assertEquals(401, auth(appId, key, secret).status(), "the old secret signs no more");
        assertEquals(200, auth(appId, key, next).status());
        try (RedisStore redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2))) {
            assertEquals(clientKey, new AppRepository(redis, 10_000).apps().join().get(appId).clientKey(),
                    "a rotation keeps the client key: installed apps carry it");
        }

        Reply listed = admin("GET", "/v1/admin/apps", null);
        assertTrue(listed.raw().contains("\"" + appId + "\"") && listed.raw().contains("\"" + CONFIGURED + "\""), listed.raw());
        assertFalse(listed.raw().contains(next));
    }

    @Test
    void limitsSetThroughTheApiAreWhatAdmissionEnforces() throws Exception {
        String appId = newAppId();
        Reply created = admin("POST", "/v1/admin/apps", "{\"appId\":\"" + appId + "\",\"appKey\":\"key-" + appId + "\"}");
        assertEquals(201, created.status(), created.raw());
        String authToken = auth(appId, "key-" + appId, created.json().path("appSecret").asText()).json().path("authToken").asText();

        String push = "{\"regId\":\"nobody-" + appId + "\",\"notification\":{\"title\":\"t\",\"body\":\"b\"}}";
        // Under the default quota the node leases a block of pushes and spends the first locally.
        Reply before = pushWith(authToken, "/v1/push/single", push);
        assertNotEquals(429, before.status(), before.raw());

        Reply set = admin("PUT", "/v1/admin/apps/" + appId + "/limits", "{\"dailyQuota\":2}");
        assertEquals(200, set.status(), set.raw());
        assertEquals(2, set.json().path("dailyQuota").asLong());
        assertEquals("admin", set.json().path("source").asText());
        assertTrue(set.json().path("rate").asInt() > 1, "the rate not given is kept: " + set.raw());

        // The leased block is given back and dropped: one push of the new quota is left, then 429.
        Reply second = pushWith(authToken, "/v1/push/single", push);
        assertNotEquals(429, second.status(), second.raw());
        Reply third = pushWith(authToken, "/v1/push/single", push);
        assertEquals(429, third.status(), third.raw());
        assertEquals("quota_exceeded", third.json().path("code").asText(), third.raw());

        Reply shown = admin("GET", "/v1/admin/apps/" + appId + "/limits", null);
        assertEquals(2, shown.json().path("usedToday").asLong(), shown.raw());
    }

    @Test
    void anSreSeesAndRecallsAnyAppsTask() throws Exception {
        String authToken = auth(CONFIGURED, "configured-key", "configured-secret").json().path("authToken").asText();
        Reply payload = pushWith(authToken, "/v1/push/payload", "{\"notification\":{\"title\":\"t\",\"body\":\"b\"}}");
        assertEquals(200, payload.status(), payload.raw());
        String taskId = payload.json().path("taskId").asText();

        Reply shown = admin("GET", "/v1/admin/tasks/" + taskId, null);
        assertEquals(200, shown.status(), shown.raw());
        assertEquals(CONFIGURED, shown.json().path("appId").asText());
        assertEquals(taskId, shown.json().path("taskId").asText());

        Reply recalled = admin("POST", "/v1/admin/tasks/" + taskId + "/recall", null);
        assertEquals(200, recalled.status(), recalled.raw());
        assertEquals("recalled", recalled.json().path("state").asText());
        assertFalse(recalled.json().path("alreadyRecalled").asBoolean());
        assertEquals("recalled", admin("GET", "/v1/admin/tasks/" + taskId, null).json().path("state").asText());
        assertTrue(admin("POST", "/v1/admin/tasks/" + taskId + "/recall", null).json().path("alreadyRecalled").asBoolean());

        assertField(admin("GET", "/v1/admin/tasks/999999999999", null), 404, "taskId");
        assertField(admin("GET", "/v1/admin/tasks/abc", null), 400, "taskId");
    }

    @Test
    void badInputIsAFourHundredNamingTheFieldAndChangesNothing() throws Exception {
        String appId = newAppId();
        assertField(admin("POST", "/v1/admin/apps", "{\"appId\":\"has space\"}"), 400, "appId");
        assertField(admin("POST", "/v1/admin/apps", "{}"), 400, "appId");
        assertField(admin("POST", "/v1/admin/apps", "{\"appId\":\"" + appId + "\",\"rate\":0}"), 400, "rate");
        assertField(admin("POST", "/v1/admin/apps", "{\"appId\":\"" + appId + "\",\"appKey\":\"short\"}"), 400, "appKey");
        assertField(admin("POST", "/v1/admin/apps", "not json"), 400, "body");
        assertEquals(404, admin("GET", "/v1/admin/apps/" + appId, null).status(), "nothing was created");

        assertField(admin("POST", "/v1/admin/apps", "{\"appId\":\"" + CONFIGURED + "\"}"), 409, "appId");
        assertField(admin("POST", "/v1/admin/apps/" + CONFIGURED + "/rotate-secret", null), 409, "appId");
        assertField(admin("PUT", "/v1/admin/apps/" + CONFIGURED + "/limits", "{\"dailyQuota\":\"lots\"}"), 400, "dailyQuota");
        assertField(admin("PUT", "/v1/admin/apps/" + CONFIGURED + "/limits", "{}"), 400, "rate");
        assertField(admin("PUT", "/v1/admin/apps/" + appId + "/limits", "{\"rate\":5}"), 404, "appId");
        assertEquals("config", admin("GET", "/v1/admin/apps/" + CONFIGURED, null).json().path("limits").path("source").asText());

        Reply twice = admin("POST", "/v1/admin/apps", "{\"appId\":\"" + appId + "\"}");
        assertEquals(201, twice.status(), twice.raw());
        Reply again = admin("POST", "/v1/admin/apps", "{\"appId\":\"" + appId + "\"}");
        assertField(again, 409, "appId");
        assertEquals("app_exists", again.json().path("code").asText());
    }

    @Test
    void withoutTheSreTokenNothingIsAnsweredOrChanged() throws Exception {
        String appId = newAppId();
        assertEquals(401, call("POST", "/v1/admin/apps", "{\"appId\":\"" + appId + "\"}", null).status());
        assertEquals(401, call("POST", "/v1/admin/apps", "{\"appId\":\"" + appId + "\"}", "wrong-token-0123456789").status());
        assertEquals(401, call("GET", "/v1/admin/apps", null, "wrong-token-0123456789").status());
        assertEquals(404, admin("GET", "/v1/admin/apps/" + appId, null).status());
    }
}
