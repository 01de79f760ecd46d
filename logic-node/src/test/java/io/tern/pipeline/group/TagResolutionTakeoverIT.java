package io.tern.pipeline.group;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.SetArgs;
import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.Keys;
import io.tern.store.receipt.AckRepository;
import io.tern.store.redis.RedisStore;
import io.tern.store.tag.TagRepository;
import io.tern.store.topic.AckRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tag push whose resolving node stops half-way (closed without finishing, as a crash leaves it):
 * another logic node's sweeper takes the task over when the lease runs out, continues from the
 * saved cursor, and every device ends up with the task once, counted once.
 */
class TagResolutionTakeoverIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String APP = "takeover-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String KEY = "takeover-key";
    private static final String SECRET = "takeover-secret";
    private static final int DEVICES = 20_000;
    private static RedisStore redis;

    @BeforeAll
    static void seed() throws Exception {
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(10));
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (int i = 0; i < DEVICES; i++) {
            // Known devices, offline: the task is queued for each.
            writes.add(redis.async().set(Keys.device(APP, "d" + i), "1", SetArgs.Builder.px(600_000)).toCompletableFuture());
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
        TagRepository tags = new TagRepository(redis);
        for (int from = 0; from < DEVICES; from += 1000) {
            tags.add(APP, "big", IntStream.range(from, from + 1000).mapToObj(i -> "d" + i).toList()).get();
        }
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static LogicNode node(String id, String jobGroup) {
        Map<String, String> m = new HashMap<>();
        m.put("logic.id", id);
        m.put("logic.port", "0");
        m.put("logic.dev-mode", "true");
        m.put("logic.redis-uri", SharedInfra.redis().uri());
        m.put("logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers());
        m.put("logic.job-group", jobGroup);
        m.put("logic.tag-chunk", "20"); // a thousand pages: the node is stopped well before the end
        m.put("logic.task-lease-ttl", "1s");
        m.put("logic.task-sweep", "200ms");
        m.put("logic.apps." + APP + ".key", KEY);
        m.put("logic.apps." + APP + ".secret", SECRET);
        return LogicNode.start(LogicConfig.from(Settings.of(m)));
    }

    private static JsonNode call(LogicNode node, String method, String path, String token, String body, int status)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.address().getPort() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("authToken", token);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(status, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static String token(LogicNode node) throws Exception {
        long ts = System.currentTimeMillis();
        String body = "{\"appId\":\"" + APP + "\",\"appKey\":\"" + KEY + "\",\"timestamp\":" + ts + ",\"sign\":\""
                + AppAuthenticator.sign(APP, KEY, ts, SECRET) + "\"}";
        return call(node, "POST", "/v1/auth", null, body, 200).get("authToken").asText();
    }

    private static String field(long taskId, String f) {
        return redis.async().hget(Keys.task(taskId), f).toCompletableFuture().join();
    }

    @Test
    void aResolutionStoppedHalfWayIsFinishedByAnotherNodeWithEveryDeviceTargetedOnce() throws Exception {
        String jobGroup = "takeover-jobs-" + UUID.randomUUID();
        LogicNode b = node("takeover-b", jobGroup);
        LogicNode a = node("takeover-a", jobGroup);
        try {
            String tokenA = token(a);
            long taskId = Long.parseLong(call(a, "POST", "/v1/push/payload", tokenA,
                    "{\"notification\":{\"title\":\"t\",\"body\":\"to a big tag\"}}", 200).get("taskId").asText());
            call(a, "POST", "/v1/push/tag", tokenA, "{\"taskId\":\"" + taskId + "\",\"tags\":{\"any\":[\"big\"]}}", 202);

            // Node A gets part of the way, then stops without finishing.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> Long.parseLong(field(taskId, "rjobs")) >= 20);
            String ownerA = field(taskId, "owner");
            a.close();
            a = null;
            assertEquals("resolving", field(taskId, "state"), "node A stopped before it finished");
            long publishedByA = Long.parseLong(field(taskId, "rjobs"));
            assertTrue(publishedByA < DEVICES / 20, "only part was published before the stop: " + publishedByA);

            // Devices that already got and acked their copy must not get or count it again when B re-publishes.
            Set<String> acked = new HashSet<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (int i = 0; i < DEVICES && acked.size() < 50; i++) {
                    String reg = "d" + i;
                    if (!acked.contains(reg) && redis.async().zscore(Keys.queue(APP, reg), Long.toString(taskId))
                            .toCompletableFuture().join() != null) {
                        new AckRepository(redis, Duration.ofSeconds(30), 1_000_000, 100_000).apply(new AckRecord(APP, reg, taskId, System.currentTimeMillis(), "b-test"),
                                System.currentTimeMillis()).join();
                        acked.add(reg);
                    }
                }
                return acked.size() == 50;
            });

            // Node B's sweeper takes over once A's lease runs out, and finishes.
            String tokenB = token(b);
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
                JsonNode t = call(b, "GET", "/v1/tasks/" + taskId, tokenB, null, 200);
                return t.get("state").asText().equals("sending") && t.get("targeted").asLong() >= DEVICES;
            });
            assertTrue(!ownerA.equals(field(taskId, "owner")) && Long.parseLong(field(taskId, "attempts")) >= 1,
                    "taken over by another node");
            // Jobs in flight settle: counters stop moving.
            AtomicReference<JsonNode> last = new AtomicReference<>();
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        JsonNode now = call(b, "GET", "/v1/tasks/" + taskId, tokenB, null, 200);
                        return now.equals(last.getAndSet(now));
                    });
            JsonNode t = last.get();
            assertEquals(DEVICES, t.get("targeted").asLong(), "every device targeted once: " + t);
            assertEquals(DEVICES, t.get("offline").asLong(), t.toString());
            assertEquals(acked.size(), t.get("delivered").asLong(), "acks counted once: " + t);
            List<CompletableFuture<Double>> scores = new ArrayList<>();
            for (int i = 0; i < DEVICES; i++) {
                scores.add(redis.async().zscore(Keys.queue(APP, "d" + i), Long.toString(taskId)).toCompletableFuture());
            }
            int queued = 0;
            for (int i = 0; i < DEVICES; i++) {
                boolean has = scores.get(i).join() != null;
                assertEquals(!acked.contains("d" + i), has, "d" + i + " holds the task unless it acked it");
                queued += has ? 1 : 0;
            }
            assertEquals(DEVICES - acked.size(), queued);
        } finally {
            if (a != null) {
                a.close();
            }
            b.close();
        }
    }
}
