package io.tern.local.e2e;

import io.lettuce.core.SetArgs;
import io.tern.client.TernClient;
import io.tern.devstack.SharedInfra;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tag push whose logic node stops half-way through resolving it: the restarted node's sweeper
 * resumes it from the saved cursor once the lease runs out, and every SDK device of the tag gets
 * the task once, with counters that match.
 */
class TagPushTakeoverIT {
    private static final int ONLINE = 100;
    private static final int OFFLINE = 20_000;

    @Test
    void aTagPushCutOffMidResolutionReachesEveryDeviceOnceAfterTheNodeRestarts() throws Exception {
        try (PlatformFixture platform = PlatformFixture.start("e2e-takeover", Map.of(
                "logic.tag-chunk", "10", // two thousand pages: the node is stopped well before the end
                "logic.task-lease-ttl", "1s",
                "logic.task-sweep", "200ms"));
             Devices devices = platform.devices();
             RedisStore redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(10))) {
            List<String> names = IntStream.range(0, ONLINE).mapToObj(i -> "o" + i).toList();
            List<TernClient> clients = devices.startAll(names);
            await().atMost(Duration.ofSeconds(60)).until(() -> clients.stream().allMatch(c -> c.state() == TernClient.State.CONNECTED));
            List<CompletableFuture<?>> writes = new ArrayList<>();
            for (int i = 0; i < OFFLINE; i++) {
                writes.add(redis.async().set(Keys.device(platform.appId, "off-" + i), "1", SetArgs.Builder.px(600_000))
                        .toCompletableFuture());
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
            PushApiClient api = platform.api();
            tag(api, devices.regIds(names));
            for (int from = 0; from < OFFLINE; from += 1000) {
                tag(api, IntStream.range(from, from + 1000).mapToObj(i -> "off-" + i).toList());
            }

            String taskId = api.createTask("takeover", "half-way", null);
            assertEquals(202, api.post("/v1/push/tag", "{\"taskId\":\"" + taskId + "\",\"tags\":{\"any\":[\"t\"]}}")
                    .join().status());
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10)).until(() ->
                    Long.parseLong(redis.async().hget(Keys.task(Long.parseLong(taskId)), "rjobs").toCompletableFuture().join()) >= 20);
            platform.cluster.restartLogic();
            PushApiClient after = platform.api();
            assertEquals("resolving", after.task(taskId).get("state").asText(), "stopped before it finished");

            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
                var t = after.task(taskId);
                return t.get("state").asText().equals("sending") && t.get("targeted").asLong() == ONLINE + OFFLINE
                        && t.get("delivered").asLong() >= ONLINE;
            });
            var t = after.settledTask(taskId, Duration.ofSeconds(2));
            assertEquals(ONLINE + OFFLINE, t.get("targeted").asLong(), t.toString());
            assertEquals(ONLINE, t.get("delivered").asLong(), "each online device counted once: " + t);
            assertEquals(ONLINE + OFFLINE, t.get("sent").asLong() + t.get("offline").asLong(), t.toString());
            for (String name : names) {
                long copies = devices.receivedBy(name).stream().filter(m -> Long.toString(m.msgId()).equals(taskId)).count();
                assertEquals(1, copies, name + " got the task once");
            }
            assertTrue(Long.parseLong(redis.async().hget(Keys.task(Long.parseLong(taskId)), "attempts")
                    .toCompletableFuture().join()) >= 1, "resumed by a takeover");
        }
    }

    private static void tag(PushApiClient api, List<String> regIds) {
        var body = PushApiClient.JSON.createObjectNode();
        regIds.forEach(body.putArray("add")::add);
        PushApiClient.Response r = api.post("/v1/tags/t/devices", body.toString()).join();
        assertEquals(200, r.status(), () -> String.valueOf(r.body()));
    }
}
