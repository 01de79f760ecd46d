package io.tern.logic.outage;

import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.config.LogicConfig;
import io.tern.logic.http.PushApi;
import io.tern.pipeline.outage.StorageMode;
import io.tern.runtime.config.Settings;
import io.tern.store.Keys;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Single pushes through a Redis crash (a redis-server of this test, SIGKILLed and restarted), with a disk KV of
 * this test too (a redis-server with AOF always, standing in for Kvrocks) so it can be taken away as well: outage
 * mode within 3 s, pushes accepted aside and queued in the disk KV, a new idempotency key refused 503, /health UP;
 * Redis back: reconciled into Redis (GET /v1/messages from Redis, the disk-KV queue moved to the Redis queue),
 * mode normal. Redis back empty: what it cannot take is reported. Disk KV down too: 503, nothing accepted.
 */
class SinglePushOutageIT {
    private static final String APP = "sp-outage-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String KEY = "sp-outage-key";
    private static final String SECRET = "sp-outage-secret";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final AtomicLong TS = new AtomicLong(System.currentTimeMillis());
    @TempDir
    static Path redisDir;
    private static RedisServer redis;
    private static RedisServer disk;
    private static RedisStore redisClient;
    private static DiskKv diskKv;
    private static LogicNode node;
    private static String token;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true).withDataDir(redisDir));
        disk = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true));
        redisClient = RedisStore.connect(redis.uri(), Duration.ofSeconds(1));
        diskKv = DiskKv.connect(disk.uri(), Duration.ofSeconds(2));
        node = LogicNode.start(LogicConfig.from(Settings.of(Map.of(
                "logic.id", "sp-outage-l1",
                "logic.port", "0",
                "logic.dev-mode", "true",
                "logic.redis-uri", redis.uri(),
                "logic.redis-timeout", "1s",
                "logic.disk-kv-uri", disk.uri(),
                "logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers(),
                "logic.apps." + APP + ".key", KEY,
                "logic.apps." + APP + ".secret", SECRET))));
        token = login();
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (diskKv != null) {
            diskKv.close();
        }
        if (redisClient != null) {
            redisClient.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (disk != null) {
            disk.close();
        }
    }

    /** Each test starts with Redis and the disk KV up and the node back to normal. */
    @AfterEach
    void bothBack() {
        if (!disk.isRunning()) {
            disk.restart();
        }
        if (!redis.isRunning()) {
            redis.restart();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> node.storageMode().normal());
        await().atMost(Duration.ofSeconds(30)).until(redisClient::isOpen);
    }

    private static HttpResponse<String> send(String method, String path, String body) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + node.address().getPort() + path);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header(PushApi.AUTH_HEADER, token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String login() throws Exception {
        long ts = TS.incrementAndGet();
        HttpResponse<String> r = send("POST", "/v1/auth", "{\"appId\":\"" + APP + "\",\"appKey\":\"" + KEY
                + "\",\"timestamp\":" + ts + ",\"sign\":\"" + AppAuthenticator.sign(APP, KEY, ts, SECRET) + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        return field(r.body(), "authToken");
    }

    private static HttpResponse<String> push(String regId, String requestId) throws Exception {
        return send("POST", "/v1/push/single", "{\"regId\":\"" + regId + "\",\"data\":{\"n\":1}"
                + (requestId == null ? "" : ",\"requestId\":\"" + requestId + "\"") + "}");
    }

    /** Sends {@code n} pushes over {@code regIds} at once; all must be accepted. Pushes per second, printed only. */
    private static double rate(java.util.List<String> regIds, int n) {
        long start = System.nanoTime();
        java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> calls = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            URI uri = URI.create("http://127.0.0.1:" + node.address().getPort() + "/v1/push/single");
            calls.add(HTTP.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .header(PushApi.AUTH_HEADER, token)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"regId\":\"" + regIds.get(i % regIds.size())
                            + "\",\"data\":{\"n\":" + i + "}}")).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (java.util.concurrent.CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.join();
            assertEquals(200, r.statusCode(), r.body());
        }
        return n / (Duration.ofNanos(System.nanoTime() - start).toMillis() / 1000.0);
    }

    private static String field(String json, String name) {
        String v = json.replaceAll(".*\"" + name + "\":\"([^\"]*)\".*", "$1");
        if (v.equals(json)) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return v;
    }

    private static String device() {
        String regId = "d-" + UUID.randomUUID();
        redisClient.async().set(Keys.device(APP, regId), "1").toCompletableFuture().join();
        return regId;
    }

    /** Kills Redis and returns how long the node took to enter outage mode (ms). */
    private static long killRedis() {
        long killed = System.nanoTime();
        redis.kill();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.storageMode().mode() == StorageMode.Mode.OUTAGE);
        long ms = Duration.ofNanos(System.nanoTime() - killed).toMillis();
        System.out.printf("[measure] redis killed -> outage mode: %d ms%n", ms);
        return ms;
    }

    @Test
    void aRedisCrashIsOutageModeWithinThreeSecondsAndWhatWasAcceptedMeanwhileIsReconciledOnceItIsBack() throws Exception {
        String offline = device();
        String routedToGoneBroker = device();
        diskKv.putRoute(APP, routedToGoneBroker, new Route("no-such-broker", "1")).join();
        java.util.List<String> bench = java.util.stream.IntStream.range(0, 20).mapToObj(i -> device()).toList();
        rate(bench, 300); // warm-up: connections, JIT
        double normalRate = rate(bench, 300);

        long toOutage = killRedis();
        assertTrue(toOutage <= 3_000, "outage mode after " + toOutage + " ms");
        HttpResponse<String> health = send("GET", "/health", null);
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("\"storage\":\"outage\""), health.body());

        HttpResponse<String> a = push(offline, null);
        assertEquals(200, a.statusCode(), a.body());
        assertEquals("offline", field(a.body(), "status"));
        long msgA = Long.parseLong(field(a.body(), "msgId"));
        HttpResponse<String> b = push(routedToGoneBroker, null);
        assertEquals(200, b.statusCode(), b.body());
        assertEquals("offline", field(b.body(), "status"), "its broker is unknown: queued for its reconnect");
        long msgB = Long.parseLong(field(b.body(), "msgId"));
        assertEquals(msgA, diskKv.queued(APP, offline, 10).join().get(0).msgId(), "queued in the disk KV");
        assertEquals(msgB, diskKv.queued(APP, routedToGoneBroker, 10).join().get(0).msgId());

        double outageRate = rate(bench, 300);
        System.out.printf("[measure] 300 concurrent single pushes to 20 offline devices: %.0f/s with Redis, %.0f/s "
                + "in outage mode (disk KV)%n", normalRate, outageRate);

        HttpResponse<String> keyed = push(offline, "new-key-" + UUID.randomUUID());
        assertEquals(503, keyed.statusCode(), keyed.body());
        assertTrue(keyed.body().contains("\"code\":\"redis_outage\""), keyed.body());
        assertTrue(keyed.headers().firstValue("Retry-After").isPresent(), keyed.headers().toString());

        HttpResponse<String> asideRead = send("GET", "/v1/messages/" + msgA, null);
        assertEquals(200, asideRead.statusCode(), asideRead.body());
        assertEquals("offline", field(asideRead.body(), "status"));

        redis.restart();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.storageMode().normal());
        await().atMost(Duration.ofSeconds(30)).until(redisClient::isOpen);

        HttpResponse<String> read = send("GET", "/v1/messages/" + msgA, null);
        assertEquals(200, read.statusCode(), read.body());
        assertEquals("offline", field(read.body(), "status"));
        assertTrue(redisClient.async().exists(Keys.message(APP, routedToGoneBroker, msgB)).toCompletableFuture().join() == 1L,
                "the second push is in Redis too");
        assertEquals(1L, redisClient.async().zcard(Keys.queue(APP, offline)).toCompletableFuture().join(),
                "moved into the device's Redis queue");
        assertEquals(0, diskKv.queued(APP, offline, 10).join().size(), "and out of the disk-KV queue");
        assertEquals(0, diskKv.aside(10).join().size(), "every aside record reconciled");
        assertTrue(send("GET", "/health", null).body().contains("\"storage\":\"normal\""));
    }

    @Test
    void redisBackWithoutItsDataGetsWhatTheAsideRecordsHoldAndReportsWhatItCannotTake() throws Exception {
        String routed = device();
        diskKv.putRoute(APP, routed, new Route("no-such-broker", "1")).join(); // it connected: the disk KV knows
        String neverRouted = device();
        long unrecoveredBefore = unrecovered();
        killRedis();
        HttpResponse<String> a = push(routed, null);
        assertEquals(200, a.statusCode(), a.body());
        long msgA = Long.parseLong(field(a.body(), "msgId"));
        HttpResponse<String> b = push(neverRouted, null);
        assertEquals(200, b.statusCode(), b.body());
        long msgB = Long.parseLong(field(b.body(), "msgId"));

        emptyRedisDir();
        redis.restart();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.storageMode().normal());
        await().atMost(Duration.ofSeconds(30)).until(redisClient::isOpen);

        HttpResponse<String> read = send("GET", "/v1/messages/" + msgA, null);
        assertEquals(200, read.statusCode(), read.body());
        assertEquals("offline", field(read.body(), "status"), "reconciled from its aside record");
        assertEquals(1L, redisClient.async().zcard(Keys.queue(APP, routed)).toCompletableFuture().join());
        assertEquals(0, diskKv.queued(APP, routed, 10).join().size());

        assertEquals(unrecoveredBefore + 1, unrecovered(), "the device nothing proves is reported on /health");
        assertEquals(404, send("GET", "/v1/messages/" + msgB, null).statusCode());
        assertEquals(msgB, diskKv.queued(APP, neverRouted, 10).join().get(0).msgId(),
                "still queued in the disk KV for the device's reconnect");
        assertEquals(0, diskKv.aside(10).join().size());
    }

    @Test
    void withTheDiskKvDownTooASinglePushIsRefused503AndNothingIsAccepted() throws Exception {
        String offline = device();
        disk.kill();
        killRedis();
        HttpResponse<String> refused = push(offline, null);
        assertEquals(503, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("\"code\":\"disk_kv_unavailable\""), refused.body());
        assertTrue(refused.headers().firstValue("Retry-After").isPresent(), refused.headers().toString());
        assertEquals(503, send("GET", "/health", null).statusCode(), "not serving: /health says so");

        disk.restart();
        redis.restart();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.storageMode().normal());
        await().atMost(Duration.ofSeconds(30)).until(redisClient::isOpen);
        assertEquals(0L, redisClient.async().zcard(Keys.queue(APP, offline)).toCompletableFuture().join(),
                "nothing accepted");
        assertEquals(0, diskKv.queued(APP, offline, 10).join().size());
    }

    private static long unrecovered() throws Exception {
        String body = send("GET", "/health", null).body();
        return Long.parseLong(body.replaceAll(".*\"storage-unrecovered\":(\\d+).*", "$1"));
    }

    private static void emptyRedisDir() {
        try (Stream<Path> files = Files.walk(redisDir)) {
            files.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(redisDir)).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
