package io.tern.logic.outage;

import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.config.LogicConfig;
import io.tern.logic.http.PushApi;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The push API through a Redis crash: a real redis-server (AOF) killed with SIGKILL and restarted
 * on its AOF. While it is down every call that needs it answers 503 {@code store_unavailable} with
 * Retry-After (never 500) and /health says storage DOWN (outage mode without a disk KV); once it is back the API serves again
 * without a restart of the node. Prints how long after the restart the first 2xx came.
 */
class RedisOutageApiIT {
    private static final String APP = "outage-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String KEY = "outage-key";
    private static final String SECRET = "outage-secret";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final AtomicLong TS = new AtomicLong(System.currentTimeMillis());
    @TempDir
    static Path dataDir;
    private static RedisServer redis;
    private static LogicNode node;

    @BeforeAll
    static void start() {
        redis = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true).withDataDir(dataDir));
        node = LogicNode.start(LogicConfig.from(Settings.of(Map.of(
                "logic.port", "0",
                "logic.dev-mode", "true",
                "logic.redis-uri", redis.uri(),
                "logic.redis-timeout", "1s",
                "logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers(),
                "logic.apps." + APP + ".key", KEY,
                "logic.apps." + APP + ".secret", SECRET))));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static HttpResponse<String> send(String method, String path, String body, String authToken) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + node.address().getPort() + path);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (authToken != null) {
            b.header(PushApi.AUTH_HEADER, authToken);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A fresh signed auth request each time (a signature counts once). */
    private static HttpResponse<String> auth() throws Exception {
        long ts = TS.incrementAndGet();
        String body = "{\"appId\":\"" + APP + "\",\"appKey\":\"" + KEY + "\",\"timestamp\":" + ts + ",\"sign\":\""
                + AppAuthenticator.sign(APP, KEY, ts, SECRET) + "\"}";
        return send("POST", "/v1/auth", body, null);
    }

    private static HttpResponse<String> push(String token) throws Exception {
        return send("POST", "/v1/push/single",
                "{\"regId\":\"r-" + UUID.randomUUID() + "\",\"notification\":{\"title\":\"t\",\"body\":\"b\"}}", token);
    }

    private static void assertStoreUnavailable(HttpResponse<String> r) {
        assertEquals(503, r.statusCode(), r.body());
        // A push in outage mode (entered 2 s into the silence) goes aside: without a disk KV it is refused so.
        assertTrue(r.body().contains("\"code\":\"store_unavailable\"")
                || r.body().contains("\"code\":\"disk_kv_unavailable\""), r.body());
        assertTrue(r.headers().firstValue("Retry-After").isPresent(), "Retry-After missing: " + r.headers());
    }

    @Test
    void duringARedisCrashTheApiAnswers503WithRetryAfterAndServesAgainSoonAfterTheRestart() throws Exception {
        HttpResponse<String> ok = auth();
        assertEquals(200, ok.statusCode(), ok.body());
        String token = ok.body().replaceAll(".*\"authToken\":\"([^\"]+)\".*", "$1");
        // A push to a device never seen: 404 unknown device, but it went through rate limits, quota and Redis.
        int before = push(token).statusCode();
        assertTrue(before < 500, "push before the outage answered " + before);

        redis.kill();
        await().atMost(Duration.ofSeconds(30)).until(() -> send("GET", "/health", null, null).statusCode() == 503);
        assertTrue(send("GET", "/health", null, null).body().contains("\"storage\":\"DOWN\""));

        assertStoreUnavailable(auth());
        assertStoreUnavailable(push(token));

        long restartedAt = System.nanoTime();
        redis.restart();
        long firstOk;
        while (true) {
            HttpResponse<String> r = auth();
            if (r.statusCode() == 200) {
                firstOk = System.nanoTime();
                break;
            }
            // Until the node has reconnected: the outage answer, never anything else.
            assertStoreUnavailable(r);
            assertTrue(System.nanoTime() - restartedAt < Duration.ofSeconds(30).toNanos(), "still refusing after 30 s");
            Thread.onSpinWait();
        }
        long pushOkAt = 0;
        for (int i = 0; ; i++) {
            HttpResponse<String> r = push(token);
            if (r.statusCode() < 500) {
                pushOkAt = System.nanoTime();
                break;
            }
            assertStoreUnavailable(r);
            assertTrue(System.nanoTime() - restartedAt < Duration.ofSeconds(30).toNanos(), "push still refused after 30 s");
        }
        System.out.printf("[measure] redis restart -> first 2xx /v1/auth: %d ms; first non-5xx push: %d ms%n",
                Duration.ofNanos(firstOk - restartedAt).toMillis(), Duration.ofNanos(pushOkAt - restartedAt).toMillis());
        await().atMost(Duration.ofSeconds(30)).until(() -> send("GET", "/health", null, null).body().contains("\"storage\":\"UP\""));
    }
}
