package io.tern.local.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.config.LogicConfig;
import io.tern.ops.cli.admin.AdminCommand;
import io.tern.ops.cli.app.AppCommand;
import io.tern.ops.cli.task.TaskCommand;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ternctl app ...} and {@code ternctl task ...} end to end against a real logic node on the shared real Redis
 * and Kafka: an app made with the CLI authenticates and stores a task with the secret the CLI printed, a rotated
 * secret replaces it, limits changed with the CLI are enforced, and the task is seen, watched and recalled; exit
 * codes and JSON as scripts rely on them.
 */
class AppAndTaskCommandsIT {
    private static final String TOKEN = "app-cli-it-sre-token-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static LogicNode node;

    @BeforeAll
    static void start() {
        node = LogicNode.start(LogicConfig.from(Settings.of(Map.of(
                "logic.id", "cli-it",
                "logic.port", "0",
                "logic.dev-mode", "true",
                "logic.redis-uri", SharedInfra.redis().uri(),
                "logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers(),
                "logic.sre-token", TOKEN))));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private record Run(int status, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("TERN_LOGIC_URL", "http://127.0.0.1:" + node.address().getPort());
        env.put("TERN_SRE_TOKEN", TOKEN);
        return env;
    }

    private static Run run(AdminCommand command, ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
        int status = command.run(List.of(args));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Run app(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        return run(new AppCommand(print(out), print(err), env), out, err, args);
    }

    private static Run app(String... args) {
        return app(env(), args);
    }

    private static Run task(Duration poll, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        return run(new TaskCommand(print(out), print(err), false, env(), Clock.systemUTC(), poll), out, err, args);
    }

    private static PrintStream print(ByteArrayOutputStream b) {
        return new PrintStream(b, true, StandardCharsets.UTF_8);
    }

    private static HttpResponse<String> post(String path, String header, String value, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.address().getPort() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (header != null) {
            b.header(header, value);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The app server's side: sign with the secret, get an auth token; null when refused. */
    private static String authToken(String appId, String appKey, String secret) throws Exception {
        long ts = System.currentTimeMillis();
        HttpResponse<String> r = post("/v1/auth", null, null, JSON.createObjectNode().put("appId", appId)
                .put("appKey", appKey).put("timestamp", ts).put("sign", AppAuthenticator.sign(appId, appKey, ts, secret)).toString());
        return r.statusCode() == 200 ? JSON.readTree(r.body()).path("authToken").asText() : null;
    }

    @Test
    void anAppMadeWithTheCliPushesWithThePrintedSecretUntilItIsRotated() throws Exception {
        String appId = "cli-" + UUID.randomUUID().toString().substring(0, 8);
        Run created = app("create", appId, "--rate", "20", "--output", "json");
        assertEquals(0, created.status(), created.err());
        String key = created.json().path("appKey").asText();
        String secret = created.json().path("appSecret").asText();
        assertTrue(authToken(appId, key, secret) != null, "the printed secret signs");
        assertTrue(created.json().path("clientKey").asText().matches("[0-9a-f]{64}"), created.out());

        Run human = app("create", appId + "-h");
        assertEquals(0, human.status(), human.err());
        assertTrue(human.out().lines().anyMatch(l -> l.strip().matches("clientKey\\s+[0-9a-f]{64}\\s+\\(built into the app.*")),
                human.out());

        Run shown = app("show", appId);
        assertEquals(0, shown.status(), shown.err());
        assertTrue(shown.out().contains("created through the admin API") && shown.out().contains("20 requests/s"), shown.out());
        assertFalse(shown.out().contains(secret));

        Run rotated = app("rotate-secret", appId);
        assertEquals(0, rotated.status(), rotated.err());
        String next = rotated.out().lines().filter(l -> l.strip().startsWith("appSecret")).findFirst().orElseThrow()
                .strip().substring("appSecret".length()).strip();
        assertNotEquals(secret, next);
        assertEquals(null, authToken(appId, key, secret), "the old secret signs no more");
        assertTrue(authToken(appId, key, next) != null);

        Run listed = app("list", "--output", "json");
        assertTrue(listed.out().contains("\"appId\":\"" + appId + "\""), listed.out());
    }

    @Test
    void limitsChangedWithTheCliAreEnforced() throws Exception {
        String appId = "cli-" + UUID.randomUUID().toString().substring(0, 8);
        JsonNode created = app("create", appId, "--output", "json").json();
        String auth = authToken(appId, created.path("appKey").asText(), created.path("appSecret").asText());

        Run changed = app("limits", appId, "--daily-quota", "1");
        assertEquals(0, changed.status(), changed.err());
        assertTrue(changed.out().contains("limits changed") && changed.out().contains("1 pushes per UTC day"), changed.out());

        String push = "{\"regId\":\"nobody\",\"notification\":{\"title\":\"t\",\"body\":\"b\"}}";
        assertNotEquals(429, post("/v1/push/single", "authToken", auth, push).statusCode());
        HttpResponse<String> over = post("/v1/push/single", "authToken", auth, push);
        assertEquals(429, over.statusCode(), over.body());

        JsonNode limits = app("limits", appId, "--output", "json").json();
        assertEquals(1, limits.path("dailyQuota").asLong());
        assertEquals(1, limits.path("usedToday").asLong());
    }

    @Test
    void aTaskIsShownWatchedAndRecalledByItsId() throws Exception {
        String appId = "cli-" + UUID.randomUUID().toString().substring(0, 8);
        JsonNode created = app("create", appId, "--output", "json").json();
        String auth = authToken(appId, created.path("appKey").asText(), created.path("appSecret").asText());
        HttpResponse<String> stored = post("/v1/push/payload", "authToken", auth,
                "{\"notification\":{\"title\":\"t\",\"body\":\"b\"}}");
        assertEquals(200, stored.statusCode(), stored.body());
        String taskId = JSON.readTree(stored.body()).path("taskId").asText();

        Run shown = task(Duration.ofMillis(50), "show", taskId);
        assertEquals(0, shown.status(), shown.err());
        assertTrue(shown.out().startsWith("task " + taskId + " of app " + appId + ": created"), shown.out());

        // Waiting for a push call: nothing settles, so watching stops at its timeout (exit 1); the task goes on.
        Run waiting = task(Duration.ofMillis(50), "watch", taskId, "--timeout", "300ms");
        assertEquals(1, waiting.status(), waiting.out());
        assertEquals(1, waiting.out().lines().count(), "a line per change, not per poll: " + waiting.out());
        assertTrue(waiting.err().contains("watch timed out"), waiting.err());

        Run recalled = task(Duration.ofMillis(50), "recall", taskId, "--output", "json");
        assertEquals(0, recalled.status(), recalled.err());
        assertEquals("recalled", recalled.json().path("state").asText());
        assertEquals(appId, recalled.json().path("appId").asText());

        Run settled = task(Duration.ofMillis(50), "watch", taskId, "--output", "json");
        assertEquals(0, settled.status(), settled.err());
        assertEquals("recalled", JSON.readTree(settled.out().lines().reduce((a, b) -> b).orElseThrow()).path("state").asText());
        assertTrue(task(Duration.ofMillis(50), "recall", taskId).out().contains("already recalled"));
    }

    @Test
    void refusalsAreExitOneWithTheFieldAndUsageErrorsExitTwo() throws Exception {
        Run unknown = app("limits", "no-such-app-" + UUID.randomUUID().toString().substring(0, 8));
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().contains("HTTP 404, unknown_app, field appId"), unknown.err());

        String appId = "cli-" + UUID.randomUUID().toString().substring(0, 8);
        assertEquals(0, app("create", appId).status());
        Run again = app("create", appId, "--output", "json");
        assertEquals(1, again.status());
        assertEquals("app_exists", again.json().path("code").asText(), "--output json prints the API's error body");

        Run noTask = task(Duration.ofMillis(50), "show", "999999999999");
        assertEquals(1, noTask.status());
        assertTrue(noTask.err().contains("404"), noTask.err());

        Map<String, String> wrong = env();
        wrong.put("TERN_SRE_TOKEN", "not-the-sre-token-at-all");
        Run refused = app(wrong, "create", "cli-" + UUID.randomUUID().toString().substring(0, 8));
        assertEquals(1, refused.status());
        assertTrue(refused.err().contains("HTTP 401"), refused.err());

        assertEquals(2, app("create", "bad id").status());
        assertEquals(2, app("limits", appId, "--rate", "0").status());
        assertEquals(2, task(Duration.ofMillis(50), "recall", "x").status());
        assertEquals(2, app(Map.of("TERN_LOGIC_URL", "http://127.0.0.1:1"), "list").status(), "no token");
    }
}
