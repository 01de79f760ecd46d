package io.tern.local.e2e;

import io.tern.client.TernClient;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.outage.StorageMode;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Single pushes to real SDK devices through a Redis crash (SIGKILL of a redis-server of this test, restarted on its
 * AOF): the logic node's outage mode carries the body to the online device's broker (its route from the disk KV,
 * written here as the routes topic's backup would) and queues the offline device's message in the disk KV; once
 * Redis is back everything is reconciled into Redis, the online device's ack (waiting in Kafka) marks its message
 * delivered, and the offline device gets its message when it reconnects.
 */
class SinglePushRedisOutageIT {
    @TempDir
    static Path redisDir;
    private static RedisServer redis;
    private static RedisStore redisClient;
    private static DiskKv diskKv;
    private static PlatformFixture platform;
    private static Devices devices;

    @BeforeAll
    static void start() {
        redis = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true).withDataDir(redisDir));
        redisClient = RedisStore.connect(redis.uri(), Duration.ofSeconds(1));
        diskKv = DiskKv.connect(SharedInfra.diskKv().uri(), Duration.ofSeconds(2));
        platform = PlatformFixture.start("e2e-redis-outage", Map.of(
                "logic.disk-kv-uri", SharedInfra.diskKv().uri(),
                "logic.redis-timeout", "1s"), redis);
        devices = platform.devices();
    }

    @AfterAll
    static void stop() {
        if (devices != null) {
            devices.close();
        }
        if (platform != null) {
            platform.close();
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
    }

    @Test
    void inARedisOutageTheOnlineDeviceGetsItsPushAtOnceTheOfflineOneOnReconnectAndBothEndDelivered() {
        TernClient on = devices.start("on");
        TernClient off = devices.start("off");
        await().atMost(Duration.ofSeconds(30)).until(() -> on.state() == TernClient.State.CONNECTED
                && off.state() == TernClient.State.CONNECTED);
        String onReg = devices.regId("on");
        String offReg = devices.regId("off");
        devices.stop("off");
        RouteRepository routes = new RouteRepository(redisClient);
        Route onRoute = routes.get(platform.appId, onReg).join();
        assertNotNull(onRoute);
        diskKv.putRoute(platform.appId, onReg, onRoute).join(); // what the routes topic's backup keeps
        PushApiClient api = platform.api();

        long killed = System.nanoTime();
        redis.kill();
        StorageMode mode = platform.cluster.logic().storageMode();
        await().atMost(Duration.ofSeconds(30)).until(() -> mode.mode() == StorageMode.Mode.OUTAGE);
        System.out.printf("[measure] redis killed -> outage mode: %d ms%n",
                Duration.ofNanos(System.nanoTime() - killed).toMillis());

        PushApiClient.Response toOn = api.pushNotification(onReg, "during", "the outage").join();
        assertEquals(200, toOn.status(), toOn.toString());
        assertEquals("sent", toOn.body().get("status").asText(), "carried to its broker");
        String onMsg = toOn.body().get("msgId").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> devices.receivedBy("on").stream()
                .anyMatch(m -> Long.toString(m.msgId()).equals(onMsg)));
        PushApiClient.Response toOff = api.pushNotification(offReg, "during", "for later").join();
        assertEquals(200, toOff.status(), toOff.toString());
        assertEquals("offline", toOff.body().get("status").asText());
        String offMsg = toOff.body().get("msgId").asText();
        assertEquals(offMsg, Long.toString(diskKv.queued(platform.appId, offReg, 10).join().get(0).msgId()));

        redis.restart();
        await().atMost(Duration.ofSeconds(30)).until(mode::normal);
        // The ack waited in Kafka until its message was reconciled into Redis.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> api.status(onMsg).equals("delivered"));

        TernClient back = devices.start("off");
        await().atMost(Duration.ofSeconds(30)).until(() -> back.state() == TernClient.State.CONNECTED);
        await().atMost(Duration.ofSeconds(30)).until(() -> devices.receivedBy("off").stream()
                .anyMatch(m -> Long.toString(m.msgId()).equals(offMsg)));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> api.status(offMsg).equals("delivered"));
        assertTrue(devices.receivedBy("on").stream().filter(m -> Long.toString(m.msgId()).equals(onMsg)).count() >= 1);
    }
}
