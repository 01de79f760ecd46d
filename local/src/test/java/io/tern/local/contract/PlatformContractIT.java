package io.tern.local.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.devstack.Ports;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.local.LocalPlatform;
import io.tern.protocol.token.DispatchSignature;
import io.tern.runtime.config.Settings;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator-facing contracts, against one running local platform (every role in this JVM, real Redis and
 * Kafka): every answer the roles' HTTP APIs give, success and error, matches {@code docs/openapi.yaml}, and every
 * documented answer is provoked here or listed in {@link #NOT_PROVOKED} with why; then every Grafana dashboard
 * under {@code charts/tern/dashboards} queries only metrics the roles really export, through the templated
 * datasource. The tests run in order: the dashboards are checked after the API calls registered their meters.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PlatformContractIT {
    private static final String SRE_TOKEN = "platform-contract-it-sre-token";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Documented answers this test cannot provoke cheaply on one healthy machine, and why. */
    private static final Set<String> NOT_PROVOKED = Set.of(
            // Needs the burst buffer's backlog over logic.buffer.max-backlog, or Kafka not acknowledging.
            "POST /v1/push/single 503",
            // Needs Redis or the disk KV down (SinglePushRedisOutageIT, ControlRolesOutageIT cover those answers).
            "GET /v1/messages/{msgId} 503",
            "POST /v1/push/payload 503",
            "POST /v1/push/list 503",
            "POST /v1/push/all 503",
            "POST /v1/push/tag 503",
            // Needs every broker of the home region and of its failover gone.
            "GET /v1/dispatch 503",
            // A concurrent writer between the read and the compare-and-set, five times running.
            "PUT /v1/throttle 409",
            // ratecontrol.scale.max-floors floors stored.
            "POST /v1/scale/floors 409",
            // A second list push with the same requestId while the first is still being processed.
            "POST /v1/push/list 409",
            // A tag push while the same task's tag resolution still runs.
            "POST /v1/push/tag 409",
            // Only when the callback URLs' resolver pool is saturated (payloads take no quota).
            "POST /v1/push/payload 429",
            // Tag membership lives in Redis only: refused during a Redis outage.
            "POST /v1/tags/{tag}/devices 503",
            // A role with a check DOWN (its Redis or Kafka gone): the outage ITs stop those.
            "GET /health 503",
            // The rate controller down while the global scheduler proxies these for the console.
            "GET /v1/throttle 502",
            "GET /v1/scale 502");

    private static final int MAX_LIST_BODY = 16 * 1024;
    @TempDir
    static Path dir;
    private static LocalPlatform platform;
    private static OpenApiContract spec;
    private static Path repo;
    private static InetSocketAddress logic;
    private static InetSocketAddress dispatcher;
    private static InetSocketAddress scheduler;
    private static InetSocketAddress controller;
    private static String authToken;

    @BeforeAll
    static void start() throws Exception {
        repo = Path.of("").toAbsolutePath().getParent();
        spec = OpenApiContract.load(repo.resolve("docs/openapi.yaml"));
        Map<String, String> s = new HashMap<>();
        s.put("local.redis-port", Integer.toString(Ports.free()));
        s.put("local.kafka-port", Integer.toString(Ports.free()));
        s.put("local.disk-kv-port", Integer.toString(Ports.free()));
        s.put("local.dev-tls", "false");
        s.put("local.sre-token", SRE_TOKEN);
        // One logic node is all the API needs; moves of one demo device end after a short stall, not the default 3 s.
        s.put("local.logic-nodes", "1");
        s.put("scheduler.stage-stall", "300ms");
        // A second app with a daily quota of one push: the second push answers 429.
        s.put("logic.apps.limited.key", "limited-key");
        s.put("logic.apps.limited.secret", "limited-secret");
        s.put("logic.limits.apps.limited.daily-quota", "1");
        // Small enough to pass cheaply: list pushes and tag membership answer 413 above it.
        s.put("logic.max-list-body-bytes", Integer.toString(MAX_LIST_BODY));
        for (String port : List.of("dispatcher.port", "logic.port", "scheduler.port", "ratecontrol.port", "bypass.port",
                "backup.port", "broker.tcp-port", "broker.ws-port", "broker.internal-port", "broker.admin-port")) {
            s.put(port, "0");
        }
        platform = LocalPlatform.start(Settings.of(s), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        logic = platform.cluster().logic().address();
        dispatcher = platform.cluster().dispatcher().address();
        scheduler = platform.cluster().scheduler().address();
        controller = platform.cluster().rateController().address();
        authToken = login("demo", "demo-key", "demo-secret");
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    // ---- calls

    private static Http.Answer call(InetSocketAddress role, String method, String template, String path,
                                    Map<String, String> headers, String body) {
        return Http.call(role, method, template, path, headers, body);
    }

    private static Http.Answer push(String method, String template, String path, String body) {
        return call(logic, method, template, path, Map.of("authToken", authToken), body);
    }

    private static Http.Answer sre(InetSocketAddress role, String method, String template, String path, String body) {
        return call(role, method, template, path, Map.of("Authorization", "Bearer " + SRE_TOKEN), body);
    }

    private static String authBody(String appId, String appKey, String secret, long ts) {
        return JSON.createObjectNode().put("appId", appId).put("appKey", appKey).put("timestamp", ts)
                .put("sign", AppAuthenticator.sign(appId, appKey, ts, secret)).toString();
    }

    private static String login(String appId, String appKey, String secret) throws Exception {
        Http.Answer a = call(logic, "POST", "/v1/auth", "/v1/auth", Map.of(),
                authBody(appId, appKey, secret, System.currentTimeMillis()));
        spec.expect(a, 200);
        return JSON.readTree(a.body()).get("authToken").asText();
    }

    private static JsonNode json(Http.Answer a) {
        try {
            return JSON.readTree(a.body());
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + a, e);
        }
    }

    /** An error answer with its status, stable code and, for bad input, the field at fault. */
    private static void expectError(Http.Answer a, int status, String code, String field) {
        spec.expect(a, status);
        JsonNode body = json(a);
        assertEquals(code, body.path("code").asText(), a.toString());
        if (field != null) {
            assertEquals(field, body.path("field").asText(), a.toString());
        }
    }

    private static String notification(String regId) {
        return "{\"regId\":\"" + regId + "\",\"notification\":{\"title\":\"t\",\"body\":\"b\"}}";
    }

    /**
     * A POST of a body just over {@link #MAX_LIST_BODY}, the largest any route takes: the server answers 413 as soon as
     * it has read the headers and closes, so a client still sending may see the reset instead of the answer. Sent
     * again until the answer is read.
     */
    private static Http.Answer overLimit(String template, String path) {
        String body = "{\"add\":[\"" + "r".repeat(MAX_LIST_BODY) + "\"]}";
        AtomicReference<Http.Answer> answer = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(IllegalStateException.class)
                .until(() -> {
                    answer.set(push("POST", template, path, body));
                    return true;
                });
        return answer.get();
    }

    private static String createTask() {
        Http.Answer a = push("POST", "/v1/push/payload", "/v1/push/payload", "{\"notification\":{\"title\":\"t\",\"body\":\"b\"}}");
        spec.expect(a, 200);
        return json(a).get("taskId").asText();
    }

    // ---- the push API (logic node)

    @Test
    @Order(1)
    void authAnswersTokensAndRefusesBadOrReplayedSignatures() {
        long ts = System.currentTimeMillis();
        String signed = authBody("demo", "demo-key", "demo-secret", ts);
        spec.expect(call(logic, "POST", "/v1/auth", "/v1/auth", Map.of(), signed), 200);
        expectError(call(logic, "POST", "/v1/auth", "/v1/auth", Map.of(), signed), 401, "unauthorized", null);
        expectError(call(logic, "POST", "/v1/auth", "/v1/auth", Map.of(),
                authBody("demo", "demo-key", "wrong-secret", ts + 1)), 401, "unauthorized", null);
        expectError(call(logic, "POST", "/v1/auth", "/v1/auth", Map.of(),
                "{\"appId\":\"demo\",\"appKey\":\"demo-key\",\"timestamp\":" + ts + "}"), 400, "invalid_field", "sign");
        expectError(call(logic, "POST", "/v1/auth", "/v1/auth", Map.of(), "{not json"), 400, "invalid_field", "body");
    }

    @Test
    @Order(2)
    void singlePushAnswersAsDocumented() {
        Http.Answer sent = push("POST", "/v1/push/single", "/v1/push/single", notification("demo-device-1"));
        spec.expect(sent, 200);
        String msgId = json(sent).get("msgId").asText();
        expectError(push("POST", "/v1/push/single", "/v1/push/single", "{\"notification\":{\"title\":\"t\",\"body\":\"b\"}}"),
                400, "invalid_field", "regId");
        expectError(push("POST", "/v1/push/single", "/v1/push/single",
                "{\"regId\":\"demo-device-1\",\"data\":{\"k\":\"v\"},\"ttlSeconds\":0}"), 400, "invalid_field", "ttlSeconds");
        expectError(push("POST", "/v1/push/single", "/v1/push/single", notification("never-issued-device")),
                404, "unknown_device", null);
        expectError(call(logic, "POST", "/v1/push/single", "/v1/push/single", Map.of(), notification("demo-device-1")),
                401, "unauthorized", null);
        expectError(push("POST", "/v1/push/single", "/v1/push/single",
                "{\"regId\":\"demo-device-1\",\"data\":{\"k\":\"" + "x".repeat(5000) + "\"}}"), 413, "payload_too_large", "body");

        spec.expect(push("GET", "/v1/messages/{msgId}", "/v1/messages/" + msgId, null), 200);
        expectError(push("GET", "/v1/messages/{msgId}", "/v1/messages/not-a-number", null), 400, "invalid_field", "msgId");
        expectError(push("GET", "/v1/messages/{msgId}", "/v1/messages/12345", null), 404, "unknown_message", "msgId");
        expectError(call(logic, "GET", "/v1/messages/{msgId}", "/v1/messages/" + msgId, Map.of(), null),
                401, "unauthorized", null);
    }

    @Test
    @Order(3)
    void anAppOverItsDailyQuotaIsAnswered429WithRetryAfter() throws Exception {
        String token = login("limited", "limited-key", "limited-secret");
        Map<String, String> auth = Map.of("authToken", token);
        // The first push takes the one push of the day (its device is unknown); the second is over the quota.
        expectError(call(logic, "POST", "/v1/push/single", "/v1/push/single", auth, notification("some-device")),
                404, "unknown_device", null);
        expectError(call(logic, "POST", "/v1/push/single", "/v1/push/single", auth, notification("some-device")),
                429, "quota_exceeded", null);
        // Group pushes are admitted under the same quota before their task is even looked up.
        for (String path : List.of("/v1/push/list", "/v1/push/all", "/v1/push/tag")) {
            expectError(call(logic, "POST", path, path, auth,
                    "{\"taskId\":\"1\",\"regIds\":[\"a\"],\"tags\":{\"any\":[\"news\"]}}"), 429, "quota_exceeded", null);
        }
    }

    @Test
    @Order(4)
    void groupPushTasksAndTagsAnswerAsDocumented() {
        String taskId = createTask();
        expectError(push("POST", "/v1/push/payload", "/v1/push/payload",
                "{\"notification\":{\"title\":\"t\",\"body\":\"b\"},\"sendAt\":1}"), 400, "invalid_field", "sendAt");
        expectError(call(logic, "POST", "/v1/push/payload", "/v1/push/payload", Map.of(), "{}"), 401, "unauthorized", null);

        spec.expect(push("POST", "/v1/push/list", "/v1/push/list",
                "{\"taskId\":\"" + taskId + "\",\"regIds\":[\"demo-device-1\",\"never-issued\"]}"), 200);
        expectError(push("POST", "/v1/push/list", "/v1/push/list", "{\"taskId\":\"" + taskId + "\"}"),
                400, "invalid_field", "regIds");
        expectError(push("POST", "/v1/push/list", "/v1/push/list", "{\"taskId\":\"99999\",\"regIds\":[\"a\"]}"),
                404, "unknown_task", null);
        expectError(call(logic, "POST", "/v1/push/list", "/v1/push/list", Map.of(), "{}"), 401, "unauthorized", null);
        expectError(overLimit("/v1/push/list", "/v1/push/list"), 413, "payload_too_large", "body");

        Http.Answer all = push("POST", "/v1/push/all", "/v1/push/all", "{\"taskId\":\"" + taskId + "\"}");
        spec.expect(all, 200);
        // Answered once recorded; the brokers' copies show in the task's counters, not in this answer.
        assertEquals("sending", json(all).path("state").asText(), all.toString());
        assertTrue(json(all).path("broadcastSeq").asLong() > 0, all.toString());
        expectError(push("POST", "/v1/push/all", "/v1/push/all", "{}"), 400, "invalid_field", "taskId");
        expectError(push("POST", "/v1/push/all", "/v1/push/all", "{\"taskId\":\"99999\"}"), 404, "unknown_task", null);
        expectError(call(logic, "POST", "/v1/push/all", "/v1/push/all", Map.of(), "{}"), 401, "unauthorized", null);

        spec.expect(push("POST", "/v1/tags/{tag}/devices", "/v1/tags/news/devices", "{\"add\":[\"demo-device-1\"]}"), 200);
        expectError(push("POST", "/v1/tags/{tag}/devices", "/v1/tags/news/devices", "{}"), 400, "invalid_field", "add");
        expectError(call(logic, "POST", "/v1/tags/{tag}/devices", "/v1/tags/news/devices", Map.of(), "{}"),
                401, "unauthorized", null);
        expectError(overLimit("/v1/tags/{tag}/devices", "/v1/tags/news/devices"), 413, "payload_too_large", "body");
        expectError(push("POST", "/v1/push/payload", "/v1/push/payload",
                "{\"data\":{\"k\":\"" + "x".repeat(5000) + "\"}}"), 413, "payload_too_large", "body");
        String tagTask = createTask();
        spec.expect(push("POST", "/v1/push/tag", "/v1/push/tag",
                "{\"taskId\":\"" + tagTask + "\",\"tags\":{\"any\":[\"news\"]}}"), 202);
        expectError(push("POST", "/v1/push/tag", "/v1/push/tag", "{\"taskId\":\"" + tagTask + "\",\"tags\":42}"),
                400, "invalid_field", "tags");
        expectError(push("POST", "/v1/push/tag", "/v1/push/tag", "{\"taskId\":\"99999\",\"tags\":{\"any\":[\"news\"]}}"),
                404, "unknown_task", null);
        expectError(call(logic, "POST", "/v1/push/tag", "/v1/push/tag", Map.of(), "{}"), 401, "unauthorized", null);

        spec.expect(push("GET", "/v1/tasks/{taskId}", "/v1/tasks/" + taskId, null), 200);
        expectError(push("GET", "/v1/tasks/{taskId}", "/v1/tasks/x", null), 400, "invalid_field", "taskId");
        expectError(push("GET", "/v1/tasks/{taskId}", "/v1/tasks/99999", null), 404, "unknown_task", null);
        expectError(call(logic, "GET", "/v1/tasks/{taskId}", "/v1/tasks/" + taskId, Map.of(), null), 401, "unauthorized", null);

        spec.expect(push("DELETE", "/v1/tasks/{taskId}", "/v1/tasks/" + taskId, null), 200);
        expectError(push("POST", "/v1/push/all", "/v1/push/all", "{\"taskId\":\"" + taskId + "\"}"), 409, "task_recalled", "taskId");
        expectError(push("DELETE", "/v1/tasks/{taskId}", "/v1/tasks/x", null), 400, "invalid_field", "taskId");
        expectError(push("DELETE", "/v1/tasks/{taskId}", "/v1/tasks/99999", null), 404, "unknown_task", "taskId");
        expectError(call(logic, "DELETE", "/v1/tasks/{taskId}", "/v1/tasks/" + taskId, Map.of(), null), 401, "unauthorized", null);
    }

    // ---- the dispatcher

    @Test
    @Order(5)
    void dispatcherRegistersAndDispatchesSignedDevicesOnly() {
        Http.Answer reg = call(dispatcher, "POST", "/v1/register", "/v1/register", Map.of(),
                "{\"appId\":\"demo\",\"clientKey\":\"demo-client-key\"}");
        spec.expect(reg, 200);
        expectError(call(dispatcher, "POST", "/v1/register", "/v1/register", Map.of(), "{\"appId\":\"demo\"}"),
                400, "invalid_field", "clientKey");
        expectError(call(dispatcher, "POST", "/v1/register", "/v1/register", Map.of(),
                "{\"appId\":\"demo\",\"clientKey\":\"wrong-key\"}"), 401, "unauthorized", null);

        String regId = json(reg).get("regId").asText();
        String secret = json(reg).get("deviceSecret").asText();
        long ts = System.currentTimeMillis();
        String q = "/v1/dispatch?appId=demo&regId=" + regId + "&ts=" + ts + "&sign="
                + DispatchSignature.sign(secret, "demo", regId, ts);
        spec.expect(call(dispatcher, "GET", "/v1/dispatch", q, Map.of(), null), 200);
        expectError(call(dispatcher, "GET", "/v1/dispatch", q + "&region=no%20such", Map.of(), null),
                400, "invalid_field", "region");
        expectError(call(dispatcher, "GET", "/v1/dispatch", "/v1/dispatch?regId=" + regId, Map.of(), null),
                400, "invalid_field", "appId");
        expectError(call(dispatcher, "GET", "/v1/dispatch", "/v1/dispatch?appId=demo&regId=" + regId + "&ts=" + ts
                + "&sign=00", Map.of(), null), 401, "unauthorized", null);
    }

    // ---- the rate controller's admin API

    @Test
    @Order(6)
    void throttleOverrideQueuesPushesAndReleaseGivesControlBack() {
        spec.expect(sre(controller, "GET", "/v1/throttle", "/v1/throttle", null), 200);
        expectError(call(controller, "GET", "/v1/throttle", "/v1/throttle", Map.of(), null), 401, "unauthorized", null);
        expectError(sre(controller, "DELETE", "/v1/throttle", "/v1/throttle", null), 409, "not_overridden", null);
        expectError(sre(controller, "PUT", "/v1/throttle", "/v1/throttle", "{\"ratePerSecond\":-1}"),
                400, "invalid_field", "ratePerSecond");
        spec.expect(sre(controller, "PUT", "/v1/throttle", "/v1/throttle", "{\"ratePerSecond\":0,\"reason\":\"contract test\"}"), 200);
        try {
            // Logic nodes follow the directive within their refresh: pushes beyond the permit are buffered.
            AtomicReference<Http.Answer> queued = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
                Http.Answer a = push("POST", "/v1/push/single", "/v1/push/single", notification("demo-device-1"));
                spec.expect(a, 200);
                queued.set(a);
                return "queued".equals(json(a).path("status").asText());
            });
            String taskId = createTask();
            Http.Answer task = push("POST", "/v1/push/all", "/v1/push/all", "{\"taskId\":\"" + taskId + "\"}");
            spec.expect(task, 200);
            assertEquals("queued", json(task).path("state").asText(), task.toString());
            Http.Answer tag = push("POST", "/v1/push/tag", "/v1/push/tag",
                    "{\"taskId\":\"" + createTask() + "\",\"tags\":{\"any\":[\"news\"]}}");
            spec.expect(tag, 200);
            assertEquals("queued", json(tag).path("state").asText(), tag.toString());
        } finally {
            spec.expect(sre(controller, "DELETE", "/v1/throttle", "/v1/throttle", null), 200);
        }
        spec.expect(sre(controller, "GET", "/v1/throttle/history", "/v1/throttle/history?limit=5", null), 200);
        expectError(sre(controller, "GET", "/v1/throttle/history", "/v1/throttle/history?limit=0", null),
                400, "invalid_field", "limit");
    }

    @Test
    @Order(7)
    void scaleFloorsAreAddedShownAndDeleted() {
        spec.expect(sre(controller, "GET", "/v1/scale", "/v1/scale", null), 200);
        expectError(call(controller, "GET", "/v1/scale", "/v1/scale", Map.of(), null), 401, "unauthorized", null);
        Http.Answer added = sre(controller, "POST", "/v1/scale/floors", "/v1/scale/floors",
                "{\"replicas\":2,\"for\":\"10m\",\"reason\":\"contract test\",\"id\":\"contract-floor\"}");
        spec.expect(added, 201);
        expectError(sre(controller, "POST", "/v1/scale/floors", "/v1/scale/floors", "{\"replicas\":2,\"for\":\"soon\"}"),
                400, "invalid_field", "for");
        spec.expect(sre(controller, "DELETE", "/v1/scale/floors/{id}", "/v1/scale/floors/contract-floor", null), 200);
        expectError(sre(controller, "DELETE", "/v1/scale/floors/{id}", "/v1/scale/floors/contract-floor", null),
                404, "floor_not_found", null);
    }

    // ---- the global scheduler's admin API

    @Test
    @Order(8)
    void regionFailoverAndFailbackAnswerAsDocumented() {
        Http.Answer regions = sre(scheduler, "GET", "/v1/regions", "/v1/regions", null);
        spec.expect(regions, 200);
        long version = json(regions).get("version").asLong();
        expectError(call(scheduler, "GET", "/v1/regions", "/v1/regions", Map.of(), null), 401, "unauthorized", null);
        spec.expect(sre(scheduler, "GET", "/v1/regions/{name}/move", "/v1/regions/north/move", null), 200);
        expectError(sre(scheduler, "GET", "/v1/regions/{name}/move", "/v1/regions/atlantis/move", null),
                404, "region_not_found", null);
        expectError(sre(scheduler, "POST", "/v1/regions/{name}/failover", "/v1/regions/north/failover",
                "{\"to\":\"south\",\"ratePerSecond\":\"fast\"}"), 400, "invalid_field", "ratePerSecond");
        expectError(sre(scheduler, "POST", "/v1/regions/{name}/failover", "/v1/regions/atlantis/failover",
                "{\"to\":\"south\"}"), 404, "region_not_found", null);
        expectError(call(scheduler, "POST", "/v1/regions/{name}/failover", "/v1/regions/north/failover", Map.of(),
                "{\"to\":\"south\"}"), 401, "unauthorized", null);
        expectError(sre(scheduler, "POST", "/v1/regions/{name}/failback", "/v1/regions/north/failback", "{}"),
                409, "region_not_failed_over", null);
        expectError(sre(scheduler, "POST", "/v1/regions/{name}/failback", "/v1/regions/north/failback", "{\"reason\":7}"),
                400, "invalid_field", "reason");
        expectError(sre(scheduler, "POST", "/v1/regions/{name}/failback", "/v1/regions/atlantis/failback", "{}"),
                404, "region_not_found", null);
        expectError(call(scheduler, "POST", "/v1/regions/{name}/failback", "/v1/regions/north/failback", Map.of(), "{}"),
                401, "unauthorized", null);
        expectError(call(scheduler, "POST", "/v1/regions/{name}/failover", "/v1/regions/north/failover",
                Map.of("Authorization", "Bearer " + SRE_TOKEN, "If-Match", Long.toString(version + 100)),
                "{\"to\":\"south\"}"), 409, "version_conflict", "If-Match");

        spec.expect(sre(scheduler, "POST", "/v1/regions/{name}/failover", "/v1/regions/north/failover",
                "{\"to\":\"south\",\"ratePerSecond\":1000,\"reason\":\"contract test\"}"), 202);
        awaitMoveDone();
        spec.expect(sre(scheduler, "POST", "/v1/regions/{name}/failback", "/v1/regions/north/failback",
                "{\"ratePerSecond\":1000,\"reason\":\"contract test over\"}"), 202);
        awaitMoveDone();
        spec.expect(sre(scheduler, "GET", "/v1/regions/history", "/v1/regions/history?limit=5", null), 200);
        expectError(sre(scheduler, "GET", "/v1/regions/history", "/v1/regions/history?limit=x", null),
                400, "invalid_field", "limit");
        expectError(call(scheduler, "GET", "/v1/regions/history", "/v1/regions/history", Map.of(), null),
                401, "unauthorized", null);
    }

    private static void awaitMoveDone() {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            Http.Answer move = sre(scheduler, "GET", "/v1/regions/{name}/move", "/v1/regions/north/move", null);
            spec.expect(move, 200);
            return !json(move).path("moving").asBoolean(true);
        });
    }

    // ---- the logic node's SRE admin API

    @Test
    @Order(9)
    void appsTheirSecretsLimitsAndAnyAppsTasksAnswerAsDocumented() {
        String tooLong = "a".repeat(65);
        spec.expect(sre(logic, "GET", "/v1/admin/apps", "/v1/admin/apps", null), 200);
        Http.Answer created = sre(logic, "POST", "/v1/admin/apps", "/v1/admin/apps",
                "{\"appId\":\"contract-app\",\"dailyQuota\":50}");
        spec.expect(created, 201);
        assertEquals(50, json(created).path("limits").path("dailyQuota").asLong(), created.toString());
        // The client key the answer shows registers the new app's devices at the dispatcher, once it re-read the apps.
        String register = "{\"appId\":\"contract-app\",\"clientKey\":\"" + json(created).path("clientKey").asText() + "\"}";
        await().atMost(Duration.ofSeconds(5)).until(() ->
                call(dispatcher, "POST", "/v1/register", "/v1/register", Map.of(), register).status() == 200);
        expectError(sre(logic, "POST", "/v1/admin/apps", "/v1/admin/apps", "{\"appId\":\"contract app\"}"),
                400, "invalid_field", "appId");
        expectError(sre(logic, "POST", "/v1/admin/apps", "/v1/admin/apps", "{\"appId\":\"demo\"}"),
                409, "app_exists", "appId");

        String app = "/v1/admin/apps/{appId}";
        spec.expect(sre(logic, "GET", app, "/v1/admin/apps/contract-app", null), 200);
        expectError(sre(logic, "GET", app, "/v1/admin/apps/" + tooLong, null), 400, "invalid_field", "appId");
        expectError(sre(logic, "GET", app, "/v1/admin/apps/no-such-app", null), 404, "unknown_app", "appId");

        String rotate = "/v1/admin/apps/{appId}/rotate-secret";
        Http.Answer rotated = sre(logic, "POST", rotate, "/v1/admin/apps/contract-app/rotate-secret", "{}");
        spec.expect(rotated, 200);
        assertTrue(!json(rotated).get("appSecret").asText().equals(json(created).get("appSecret").asText()), rotated.toString());
        expectError(sre(logic, "POST", rotate, "/v1/admin/apps/demo/rotate-secret", "{}"), 409, "configured_app", "appId");
        expectError(sre(logic, "POST", rotate, "/v1/admin/apps/no-such-app/rotate-secret", "{}"), 404, "unknown_app", "appId");
        expectError(sre(logic, "POST", rotate, "/v1/admin/apps/" + tooLong + "/rotate-secret", "{}"),
                400, "invalid_field", "appId");

        String limits = "/v1/admin/apps/{appId}/limits";
        spec.expect(sre(logic, "GET", limits, "/v1/admin/apps/limited/limits", null), 200);
        expectError(sre(logic, "GET", limits, "/v1/admin/apps/no-such-app/limits", null), 404, "unknown_app", "appId");
        expectError(sre(logic, "GET", limits, "/v1/admin/apps/" + tooLong + "/limits", null), 400, "invalid_field", "appId");
        Http.Answer set = sre(logic, "PUT", limits, "/v1/admin/apps/contract-app/limits", "{\"rate\":7}");
        spec.expect(set, 200);
        assertEquals(50, json(set).path("dailyQuota").asLong(), "the quota not given is kept: " + set);
        expectError(sre(logic, "PUT", limits, "/v1/admin/apps/contract-app/limits", "{}"), 400, "invalid_field", "rate");
        expectError(sre(logic, "PUT", limits, "/v1/admin/apps/contract-app/limits", "{\"dailyQuota\":0}"),
                400, "invalid_field", "dailyQuota");
        expectError(sre(logic, "PUT", limits, "/v1/admin/apps/no-such-app/limits", "{\"rate\":7}"),
                404, "unknown_app", "appId");

        String taskId = createTask();
        String task = "/v1/admin/tasks/{taskId}";
        Http.Answer shown = sre(logic, "GET", task, "/v1/admin/tasks/" + taskId, null);
        spec.expect(shown, 200);
        assertEquals("demo", json(shown).path("appId").asText(), shown.toString());
        expectError(sre(logic, "GET", task, "/v1/admin/tasks/x", null), 400, "invalid_field", "taskId");
        expectError(sre(logic, "GET", task, "/v1/admin/tasks/99999", null), 404, "unknown_task", "taskId");
        String recall = "/v1/admin/tasks/{taskId}/recall";
        spec.expect(sre(logic, "POST", recall, "/v1/admin/tasks/" + taskId + "/recall", "{}"), 200);
        expectError(sre(logic, "POST", recall, "/v1/admin/tasks/0/recall", "{}"), 400, "invalid_field", "taskId");
        expectError(sre(logic, "POST", recall, "/v1/admin/tasks/99999/recall", "{}"), 404, "unknown_task", "taskId");

        List<String[]> calls = List.of(
                new String[]{"GET", "/v1/admin/apps", "/v1/admin/apps"},
                new String[]{"POST", "/v1/admin/apps", "/v1/admin/apps"},
                new String[]{"GET", app, "/v1/admin/apps/demo"},
                new String[]{"POST", rotate, "/v1/admin/apps/contract-app/rotate-secret"},
                new String[]{"GET", limits, "/v1/admin/apps/demo/limits"},
                new String[]{"PUT", limits, "/v1/admin/apps/demo/limits"},
                new String[]{"GET", task, "/v1/admin/tasks/" + taskId},
                new String[]{"POST", recall, "/v1/admin/tasks/" + taskId + "/recall"});
        for (String[] c : calls) {
            expectError(call(logic, c[0], c[1], c[2], Map.of("Authorization", "Bearer not-the-sre-token"),
                    c[0].equals("GET") ? null : "{\"appId\":\"sneaky\",\"rate\":1}"), 401, "unauthorized", null);
        }
    }

    // ---- the global scheduler's overview for the console

    @Test
    @Order(10)
    void consoleOverviewAnswersAsDocumented() {
        Http.Answer brokers = sre(scheduler, "GET", "/v1/brokers", "/v1/brokers", null);
        spec.expect(brokers, 200);
        assertTrue(json(brokers).get("brokers").size() > 0, brokers.toString());
        Http.Answer tasks = sre(scheduler, "GET", "/v1/tasks", "/v1/tasks?limit=2", null);
        spec.expect(tasks, 200);
        assertEquals(2, json(tasks).get("tasks").size(), "earlier tests created more tasks: " + tasks);
        expectError(sre(scheduler, "GET", "/v1/tasks", "/v1/tasks?limit=0", null), 400, "invalid_field", "limit");
        // The controller's own answers, through the scheduler with the caller's token.
        spec.expect(sre(scheduler, "GET", "/v1/throttle", "/v1/throttle", null), 200);
        spec.expect(sre(scheduler, "GET", "/v1/scale", "/v1/scale", null), 200);
        for (String path : List.of("/v1/brokers", "/v1/tasks", "/v1/throttle", "/v1/scale")) {
            expectError(call(scheduler, "GET", path, path, Map.of(), null), 401, "unauthorized", null);
        }
        Http.Answer console = call(scheduler, "GET", "/console", "/console", Map.of(), null);
        spec.expect(console, 200);
        assertTrue(console.body().contains("<html"), "the console page: " + console);
    }

    @Test
    @Order(11)
    void everyAdminCallWithoutTheSreTokenIsRefused() {
        List<String[]> calls = List.of(
                new String[]{"scheduler", "GET", "/v1/regions/{name}/move", "/v1/regions/north/move"},
                new String[]{"scheduler", "GET", "/v1/regions/history", "/v1/regions/history"},
                new String[]{"scheduler", "POST", "/v1/regions/{name}/failover", "/v1/regions/north/failover"},
                new String[]{"scheduler", "POST", "/v1/regions/{name}/failback", "/v1/regions/north/failback"},
                new String[]{"controller", "PUT", "/v1/throttle", "/v1/throttle"},
                new String[]{"controller", "DELETE", "/v1/throttle", "/v1/throttle"},
                new String[]{"controller", "GET", "/v1/throttle/history", "/v1/throttle/history"},
                new String[]{"controller", "POST", "/v1/scale/floors", "/v1/scale/floors"},
                new String[]{"controller", "DELETE", "/v1/scale/floors/{id}", "/v1/scale/floors/any"});
        for (String[] c : calls) {
            InetSocketAddress role = c[0].equals("scheduler") ? scheduler : controller;
            String body = c[1].equals("GET") || c[1].equals("DELETE") ? null : "{}";
            expectError(call(role, c[1], c[2], c[3], Map.of("Authorization", "Bearer not-the-sre-token"), body),
                    401, "unauthorized", null);
        }
    }

    // ---- every role

    @Test
    @Order(12)
    void everyRoleAnswersHealthMetricsAndUnknownPaths() {
        for (InetSocketAddress role : roles().values()) {
            spec.expect(call(role, "GET", "/health", "/health", Map.of(), null), 200);
            spec.expect(call(role, "GET", "/metrics", "/metrics", Map.of(), null), 200);
        }
        // Any role: the shared HTTP server's answers for a path or method it does not serve, in the documented shape.
        Http.Answer method = call(logic, "GET", "/v1/push/single", "/v1/push/single", Map.of(), null);
        assertEquals(405, method.status(), method.toString());
        spec.checkError(method, "method_not_allowed");
        Http.Answer path = call(logic, "GET", "/v1/nothing", "/v1/nothing", Map.of(), null);
        assertEquals(404, path.status(), path.toString());
        spec.checkError(path, "not_found");
    }

    @Test
    @Order(13)
    void everyDocumentedAnswerIsProvokedOrSaidWhyNot() {
        Set<String> missing = new TreeSet<>(spec.documented());
        missing.removeAll(spec.seen());
        missing.removeAll(NOT_PROVOKED);
        assertEquals(Set.of(), missing, "documented in docs/openapi.yaml but never answered here");
        Set<String> stale = new TreeSet<>(NOT_PROVOKED);
        stale.removeAll(spec.documented());
        assertEquals(Set.of(), stale, "NOT_PROVOKED names answers the spec does not document");
    }

    // ---- dashboards

    @Test
    @Order(14)
    void everyDashboardQueriesOnlyExportedMetricsThroughTheTemplatedDatasource() throws Exception {
        // Micrometer registers jvm_gc_pause_seconds at the first collection after a role started, which may not have
        // happened yet in this (the roles') JVM; the GC notification reaches the roles' registries asynchronously.
        System.gc();
        Map<String, Map<String, Set<String>>> exported = new LinkedHashMap<>();
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                roles().forEach((role, address) -> exported.put(role,
                        Dashboards.metricLabels(call(address, "GET", "/metrics", "/metrics", Map.of(), null).body())));
                return exported.values().stream().allMatch(m -> m.containsKey("jvm_gc_pause_seconds_sum"));
            });
        } catch (ConditionTimeoutException e) {
            // The check below names what is still missing, panel by panel.
        }
        // What each role exported, for whoever edits a dashboard next.
        Path out = Path.of("target", "role-metrics");
        Files.createDirectories(out);
        for (Map.Entry<String, Map<String, Set<String>>> e : exported.entrySet()) {
            Files.write(out.resolve(e.getKey() + ".txt"), e.getValue().entrySet().stream()
                    .map(m -> m.getKey() + " " + m.getValue()).toList());
        }
        Dashboards.check(repo.resolve("charts/tern/dashboards"), exported);
    }

    /** Each role by its dashboard's name; the first broker and logic node stand for all. */
    private static Map<String, InetSocketAddress> roles() {
        Map<String, InetSocketAddress> r = new LinkedHashMap<>();
        r.put("broker", platform.cluster().brokers().get(0).adminAddress());
        r.put("dispatcher", dispatcher);
        r.put("logic-node", logic);
        r.put("global-scheduler", scheduler);
        r.put("rate-controller", controller);
        r.put("bypass-consumer", platform.cluster().bypassConsumer().address());
        r.put("disk-kv-backup", platform.diskKvBackup().address());
        return r;
    }
}
