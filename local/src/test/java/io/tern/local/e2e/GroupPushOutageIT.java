package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.DeviceRoute;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskBodyJson;
import io.tern.store.task.TaskRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Group pushes through a Redis crash (kill -9 of a real redis-server): a list push and a broadcast of tasks created
 * before it reach the online SDK devices with bodies read from the disk KV; a device connecting during the outage
 * catches up on the broadcast it missed from the disk KV's broadcast log; once Redis is back the outage's counters
 * are reconciled into the tasks and the device the list push could not reach gets the task from its Redis queue.
 * The disk KV holds bodies and routes as the disk-KV backup copies them from Kafka: this test writes them itself.
 */
class GroupPushOutageIT {
    private static final int ONLINE = 20;
    @TempDir
    static Path redisDir;
    private static RedisServer redis;
    private static PlatformFixture platform;
    private static Devices devices;
    private static PushApiClient api;
    private static DiskKv disk;
    private static RedisStore store;

    @BeforeAll
    static void start() {
        redis = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true).withDataDir(redisDir));
        String diskKvUri = SharedInfra.diskKv().uri();
        platform = PlatformFixture.start("e2e-gout-" + UUID.randomUUID().toString().substring(0, 6), Map.of(
                "logic.disk-kv-uri", diskKvUri,
                "broker.disk-kv-uri", diskKvUri,
                "logic.redis-timeout", "1s",
                "broker.redis-timeout", "1s",
                "dispatcher.redis-timeout", "1s"), redis);
        devices = platform.devices();
        api = platform.api();
        disk = DiskKv.connect(diskKvUri, Duration.ofSeconds(2));
        store = RedisStore.connect(redis.uri(), Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() {
        if (devices != null) {
            devices.close();
        }
        if (platform != null) {
            platform.close();
        }
        if (store != null) {
            store.close();
        }
        if (disk != null) {
            disk.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static long copiesOf(String name, String taskId) {
        return devices.receivedBy(name).stream().filter(m -> Long.toString(m.msgId()).equals(taskId)).count();
    }

    /** What the disk-KV backup does with tern.bodies (body JSON) and tern.routes. */
    private static void backUp(String taskId, List<String> regIds) {
        TaskRepository tasks = new TaskRepository(store, null);
        StoredTask t = tasks.find(Long.parseLong(taskId)).join();
        disk.putBody(t.body().taskId(), new String(TaskBodyJson.write(t.body()), StandardCharsets.UTF_8),
                t.body().expiresAtMillis(), System.currentTimeMillis()).join();
        for (DeviceRoute d : new RouteRepository(store).lookup(platform.appId, regIds).join()) {
            if (d.route() != null) {
                disk.putRoute(platform.appId, d.regId(), d.route()).join();
            }
        }
    }

    @Test
    void listPushAndBroadcastGoOnFromTheDiskKvAndAreReconciledAfterRedisReturns() {
        List<String> online = IntStream.range(0, ONLINE).mapToObj(i -> "on-" + i).toList();
        devices.startAll(online);
        devices.startAll(List.of("late", "away"));
        List<String> onlineIds = devices.regIds(online);
        String lateId = devices.regId("late");
        String awayId = devices.regId("away");

        // A broadcast before the outage: "late" sees it, so it knows the app's broadcast sequence.
        String before = api.createTask("before", "the outage", null);
        assertEquals(200, api.allPush(before).status());
        await().atMost(Duration.ofSeconds(30)).until(() -> copiesOf("late", before) == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> devices.client("late").lastBroadcastSeq() > 0);
        long lateSeq = devices.client("late").lastBroadcastSeq();
        devices.stop("late");
        devices.stop("away");

        String list = api.createTask("list", "in the outage", null);
        String all = api.createTask("all", "in the outage", null);
        List<String> everyone = new java.util.ArrayList<>(onlineIds);
        everyone.add(lateId);
        everyone.add(awayId);
        backUp(list, everyone);
        backUp(all, everyone);
        // The stopped devices' routes are gone from Redis, so the disk KV holds none for them either.

        redis.kill();
        await().atMost(Duration.ofSeconds(30)).until(() -> api.get("/health").body().toString().contains("outage"));

        // Refused with 503 + Retry-After: what needs Redis.
        PushApiClient.Response create = api.post("/v1/push/payload",
                "{\"notification\":{\"title\":\"t\",\"body\":\"b\"}}").join();
        assertEquals(503, create.status(), String.valueOf(create.body()));
        assertTrue(create.headers().firstValue("Retry-After").isPresent());
        PushApiClient.Response tag = api.post("/v1/push/tag", "{\"taskId\":\"" + list + "\",\"tags\":{\"any\":[\"x\"]}}").join();
        assertEquals(503, tag.status(), String.valueOf(tag.body()));

        // A list push to the online devices and one offline; a broadcast.
        List<String> targets = new java.util.ArrayList<>(onlineIds);
        targets.add(awayId);
        PushApiClient.Response lr = api.listPush(list, targets, null);
        assertEquals(200, lr.status(), String.valueOf(lr.body()));
        PushApiClient.Response ar = api.allPush(all);
        assertEquals(200, ar.status(), String.valueOf(ar.body()));
        await().atMost(Duration.ofSeconds(30)).until(() -> online.stream()
                .allMatch(n -> copiesOf(n, list) == 1 && copiesOf(n, all) == 1));
        assertTrue(devices.receivedBy(online.get(0)).stream().anyMatch(m -> Long.toString(m.msgId()).equals(all)
                && m.payload().contains("in the outage")), "the body from the disk KV");

        // A device connecting during the outage catches up on the broadcast it missed.
        devices.start("late", lateSeq);
        await().atMost(Duration.ofSeconds(30)).until(() -> copiesOf("late", all) == 1);
        assertEquals(1, copiesOf("late", before), "the broadcast before its sequence not again (once, before the outage)");

        redis.restart();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            PushApiClient.Response r = api.get("/v1/tasks/" + list);
            return r.status() == 200 && r.body().get("offline").asLong() == 1;
        });
        JsonNode l = api.task(list);
        assertEquals(ONLINE + 1, l.get("targeted").asLong(), l::toString);
        assertEquals(ONLINE, l.get("sent").asLong(), l::toString);
        assertEquals(1, l.get("offline").asLong(), l::toString);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> api.task(all).get("sent").asLong() == ONLINE + 1);
        JsonNode a = api.task(all);
        assertEquals(ONLINE + 1, a.get("targeted").asLong(), "live copies and the catch-up: " + a);

        // The device the list push could not reach gets it from its Redis queue, reconciled.
        devices.start("away");
        await().atMost(Duration.ofSeconds(30)).until(() -> copiesOf("away", list) == 1);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> api.task(list).get("delivered").asLong() == ONLINE + 1);
    }
}
