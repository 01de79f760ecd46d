package io.tern.local.e2e;

import io.lettuce.core.SetArgs;
import io.tern.client.TernClient;
import io.tern.devstack.SharedInfra;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tag expressions against a known tagging: red = t0..t19, big = t10..t29, vip = t0..t4 and t25
 * (t0..t4 subscribe to vip from the SDK, the rest is tagged by the app server).
 */
class TagPushIT {
    private static final int DEVICES = 30;
    private static PlatformFixture platform;
    private static Devices devices;
    private static PushApiClient api;
    private static List<String> all;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-tags");
        devices = platform.devices();
        api = platform.api();
        all = IntStream.range(0, DEVICES).mapToObj(i -> "t" + i).toList();
        List<TernClient> clients = devices.startAll(all);
        await().atMost(Duration.ofSeconds(30)).until(() -> clients.stream().allMatch(c -> c.state() == TernClient.State.CONNECTED));
        tag("red", devices.regIds(range(0, 20)));
        tag("big", devices.regIds(range(10, 30)));
        tag("vip", List.of(devices.regId("t25")));
        for (int i = 0; i < 5; i++) {
            devices.client("t" + i).subscribe("vip");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> resolve("{\"all\":[\"vip\"]}").size() == 6);
    }

    @AfterAll
    static void stop() {
        devices.close();
        platform.close();
    }

    private static List<String> range(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> "t" + i).toList();
    }

    private static void tag(String tag, List<String> regIds) {
        var body = PushApiClient.JSON.createObjectNode();
        regIds.forEach(body.putArray("add")::add);
        PushApiClient.Response r = api.post("/v1/tags/" + tag + "/devices", body.toString()).join();
        assertEquals(200, r.status(), () -> String.valueOf(r.body()));
    }

    /** Pushes a new task to the expression and returns the devices that received it. */
    private static Set<String> resolve(String expression) {
        String taskId = api.createTask("tags", expression.replace("\"", "'"), null);
        PushApiClient.Response r = api.post("/v1/push/tag", "{\"taskId\":\"" + taskId + "\",\"tags\":" + expression + "}").join();
        assertEquals(202, r.status(), () -> String.valueOf(r.body()));
        // Done when every targeted copy is delivered and the count stops moving.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).until(() -> {
            var t = api.task(taskId);
            return t.get("targeted").asLong() > 0 && t.get("targeted").asLong() == t.get("delivered").asLong();
        });
        var t = api.settledTask(taskId, Duration.ofMillis(1500));
        assertEquals(t.get("targeted").asLong(), t.get("delivered").asLong(), "every target delivered");
        return all.stream().filter(id -> devices.receivedBy(id).stream()
                .anyMatch(m -> Long.toString(m.msgId()).equals(taskId))).collect(Collectors.toSet());
    }

    @Test
    void anyIsTheUnionOnceEach() {
        Set<String> expected = new java.util.HashSet<>(range(0, 20));
        expected.add("t25");
        assertEquals(expected, resolve("{\"any\":[\"red\",\"vip\"]}"));
    }

    @Test
    void allIsTheIntersection() {
        assertEquals(Set.copyOf(range(10, 20)), resolve("{\"all\":[\"red\",\"big\"]}"));
    }

    @Test
    void noneExcludes() {
        assertEquals(Set.copyOf(range(5, 20)), resolve("{\"all\":[\"red\"],\"none\":[\"vip\"]}"));
    }

    @Test
    void anyWithAllNarrowsTheIntersection() {
        assertEquals(Set.of("t25"), resolve("{\"all\":[\"big\"],\"any\":[\"vip\"]}"));
    }

    @Test
    void aTagOfAHundredThousandDevicesIsResolvedInChunks() throws Exception {
        int n = 100_000;
        try (RedisStore redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(10))) {
            // Known devices that are offline: the platform has seen them connect before.
            List<CompletableFuture<?>> writes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                writes.add(redis.async().set(Keys.device(platform.appId, "bulk-" + i), "1", SetArgs.Builder.px(600_000))
                        .toCompletableFuture());
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
        }
        for (int from = 0; from < n; from += 1000) {
            tag("bulk", IntStream.range(from, from + 1000).mapToObj(i -> "bulk-" + i).toList());
        }
        double jobsBefore = jobsPublished();
        String taskId = api.createTask("bulk", "to a big tag", null);
        assertEquals(202, api.post("/v1/push/tag", "{\"taskId\":\"" + taskId + "\",\"tags\":{\"any\":[\"bulk\"]}}").join().status());
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .until(() -> api.task(taskId).get("targeted").asLong() >= n);
        var t = api.task(taskId);
        assertEquals(n, t.get("targeted").asLong());
        assertEquals(n, t.get("offline").asLong());
        double jobs = jobsPublished() - jobsBefore;
        assertTrue(jobs >= n / 1000.0, "resolved in chunks of at most 1,000, not at once: " + jobs + " jobs");
        // The API call does not wait for resolution, and no device of the 30 got it.
        assertTrue(all.stream().allMatch(id -> devices.receivedBy(id).stream()
                .noneMatch(m -> Long.toString(m.msgId()).equals(taskId))));
    }

    private static double jobsPublished() {
        String metrics = new PushApiClient(platform.cluster.logic().address()).getText("/metrics");
        return metrics.lines().filter(l -> l.startsWith("tern_push_tag_jobs_total"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
