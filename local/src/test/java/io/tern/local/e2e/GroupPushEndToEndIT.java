package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.tern.client.PushMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * List and all pushes to many SDK devices over two brokers; an all push with a callback (the
 * JDK's HTTP server as the app server) posts each device's receipt.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GroupPushEndToEndIT {
    private static final int LIST_DEVICES = 1000;
    private static final int ALL_DEVICES = 5000;
    private static final int OTHER_APP_DEVICES = 200;
    private static final int OFFLINE_DURING_BROADCAST = 20;
    private static final int CALLBACK_DEVICES = 500;
    private static PlatformFixture platform;
    private static Devices devices;
    private static Devices otherApp;
    private static PushApiClient api;
    /** The app server receiving receipt callbacks: on loopback, so the logic node must allow its port. */
    private static HttpServer app;
    private static final Map<String, Integer> receipts = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        app.createContext("/receipts", exchange -> {
            try (exchange) {
                for (JsonNode r : new ObjectMapper().readTree(exchange.getRequestBody().readAllBytes()).get("receipts")) {
                    receipts.merge(r.get("id").asText() + "/" + r.get("regId").asText(), 1, Integer::sum);
                }
                exchange.sendResponseHeaders(200, -1);
            }
        });
        app.start();
        // The counts are asserted exactly, so the ack filter is sized to make a false positive (an under-count by
        // design) improbable for 5,000 devices: ~3e-8 a device at 32 bits and 8 probes, against ~1e-4 with the defaults.
        platform = PlatformFixture.start("e2e-group", java.util.Map.of("logic.apps.e2e-other.key", "k-other",
                "logic.apps.e2e-other.secret", "other-secret",
                "logic.ack-filter-bits-per-device", "32", "logic.ack-filter-probes", "8",
                "logic.callback.allow", "127.0.0.1:" + app.getAddress().getPort()));
        devices = platform.devices();
        otherApp = platform.devices("e2e-other");
        api = platform.api();
    }

    @AfterAll
    static void stop() {
        otherApp.close();
        devices.close();
        platform.close();
        app.stop(0);
    }

    private static List<String> connect(Devices pool, String prefix, int n) {
        List<String> regIds = IntStream.range(0, n).mapToObj(i -> prefix + i).toList();
        pool.startAll(regIds);
        return regIds;
    }

    private static long copiesOf(Devices pool, String regId, String taskId) {
        return pool.receivedBy(regId).stream().filter(m -> Long.toString(m.msgId()).equals(taskId)).count();
    }

    @Test
    @Order(1)
    void listPushReachesEachOfAThousandDevicesExactlyOnceAndCountersMatch() {
        List<String> regIds = connect(devices, "list-", LIST_DEVICES);
        platform.cluster.brokers().forEach(b -> assertTrue(b.connectionCount() > 0, b.id() + " holds devices"));
        String taskId = api.createTask("list", "to a thousand", null);

        PushApiClient.Response r = api.listPush(taskId, devices.regIds(regIds), "list-req-1");
        assertEquals(200, r.status(), () -> String.valueOf(r.body()));
        assertEquals(0, r.body().get("invalidRegIds").size());

        await().atMost(Duration.ofSeconds(30)).until(() -> regIds.stream().allMatch(id -> copiesOf(devices, id, taskId) >= 1));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> api.task(taskId).get("delivered").asLong() == LIST_DEVICES);
        JsonNode t = api.task(taskId);
        assertEquals(LIST_DEVICES, t.get("targeted").asLong());
        assertEquals(LIST_DEVICES, t.get("sent").asLong());
        assertEquals(0, t.get("offline").asLong());
        assertEquals(0, t.get("invalid").asLong());
        assertTrue(regIds.stream().allMatch(id -> copiesOf(devices, id, taskId) == 1), "exactly once each");
        regIds.forEach(devices::stop);
    }

    @Test
    void allPushReachesEveryDeviceOfTheAppOnceNoneOfAnotherAppAndOfflineDevicesOnReconnect() {
        List<String> regIds = connect(devices, "all-", ALL_DEVICES);
        List<String> others = connect(otherApp, "other-", OTHER_APP_DEVICES);
        List<String> away = regIds.subList(0, OFFLINE_DURING_BROADCAST);
        away.forEach(devices::stop);
        int online = ALL_DEVICES - OFFLINE_DURING_BROADCAST;
        await().atMost(Duration.ofSeconds(10)).until(() -> platform.cluster.brokers().stream()
                .mapToInt(b -> b.connectionCount()).sum() == online + OTHER_APP_DEVICES);

        String taskId = api.createTask("all", "to everyone", null);
        double countedBefore = countedAcks();
        long start = System.nanoTime();
        PushApiClient.Response r = api.allPush(taskId);
        assertEquals(200, r.status(), () -> String.valueOf(r.body()));
        // Answered once recorded: the copies written show in the task's counters as the brokers answer.
        assertEquals("sending", r.body().get("state").asText(), () -> String.valueOf(r.body()));
        assertTrue(r.body().get("broadcastSeq").asLong() > 0);
        List<String> present = regIds.subList(OFFLINE_DURING_BROADCAST, ALL_DEVICES);
        await().atMost(Duration.ofSeconds(60)).until(() -> present.stream().allMatch(id -> copiesOf(devices, id, taskId) >= 1));
        long lastReceipt = present.stream().mapToLong(id -> devices.receivedBy(id).stream()
                .filter(m -> Long.toString(m.msgId()).equals(taskId)).mapToLong(PushMessage::receivedAtNanos).max().orElse(0))
                .max().orElseThrow();
        System.out.printf("[e2e] broadcast to %d devices on 2 brokers: API call to last device receipt %.1f ms%n",
                online, (lastReceipt - start) / 1e6);

        away.forEach(devices::start);
        await().atMost(Duration.ofSeconds(30)).until(() -> away.stream().allMatch(id -> copiesOf(devices, id, taskId) >= 1));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> api.task(taskId).get("delivered").asLong() == ALL_DEVICES);

        assertTrue(regIds.stream().allMatch(id -> copiesOf(devices, id, taskId) == 1), "exactly once each");
        assertTrue(others.stream().allMatch(id -> copiesOf(otherApp, id, taskId) == 0), "no device of another app");
        JsonNode t = api.task(taskId);
        assertEquals(online, t.get("sent").asLong() - OFFLINE_DURING_BROADCAST, "written live, then catch-up copies");
        assertEquals(ALL_DEVICES, t.get("delivered").asLong());
        assertTrue(countedAcks() - countedBefore >= online, "no callback: brokers counted the live copies' acks");
        regIds.forEach(devices::stop);
        others.forEach(otherApp::stop);
    }

    /** Acks the brokers sent as counts instead of one record each. */
    private static double countedAcks() {
        return platform.cluster.brokers().stream().mapToDouble(b -> {
            var c = b.observability().registry().find("tern.broker.acks.counted").functionCounter();
            return c == null ? 0 : c.count();
        }).sum();
    }

    @Test
    void allPushWithACallbackPostsEveryDevicesReceiptOnce() throws Exception {
        int n = CALLBACK_DEVICES;
        List<String> regIds = connect(devices, "cb-", n);
        List<String> issued = devices.regIds(regIds);
        await().atMost(Duration.ofSeconds(10)).until(() -> platform.cluster.brokers().stream()
                .mapToInt(b -> b.connectionCount()).sum() >= n);
        try {
            String url = "http://127.0.0.1:" + app.getAddress().getPort() + "/receipts";
            String taskId = api.createTask("all", "with receipts", "\"callback\":{\"url\":\"" + url + "\",\"param\":\"p\"}");
            double countedBefore = countedAcks();
            assertEquals(200, api.allPush(taskId).status());

            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                    .until(() -> issued.stream().filter(id -> receipts.containsKey(taskId + "/" + id)).count() == n);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                    .until(() -> api.task(taskId).get("delivered").asLong() == n);
            // Each receipt once, and still once after the next callback batch would have come.
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                    .until(() -> issued.stream().allMatch(id -> receipts.get(taskId + "/" + id) == 1));
            assertEquals(countedBefore, countedAcks(), "a callback task's acks are not counted by the brokers");
        } finally {
            regIds.forEach(devices::stop);
        }
    }
}
