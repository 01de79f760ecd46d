package io.tern.local.e2e;

import io.tern.broker.Broker;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** 200 SDK devices over two brokers; one single push each over HTTP. */
class SinglePushEndToEndIT {
    private static final int DEVICES = 200;
    private static PlatformFixture platform;
    private static Devices devices;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-single");
        devices = platform.devices();
    }

    @AfterAll
    static void stop() {
        devices.close();
        platform.close();
    }

    @Test
    void everyDeviceReceivesExactlyItsOwnMessageOnceAndEveryMessageEndsDelivered() {
        List<String> regIds = IntStream.range(0, DEVICES).mapToObj(i -> "dev-" + i).toList();
        List<TernClient> clients = devices.startAll(regIds);
        await().atMost(Duration.ofSeconds(30)).until(() -> clients.stream().allMatch(c -> c.state() == TernClient.State.CONNECTED));
        for (Broker b : platform.cluster.brokers()) {
            assertTrue(b.connectionCount() > 0, "devices spread over both brokers; " + b.id() + " has none");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> platform.cluster.brokers().stream()
                .mapToInt(Broker::connectionCount).sum() == DEVICES);

        PushApiClient api = platform.api();
        Map<String, String> msgIdByReg = new ConcurrentHashMap<>();
        Map<String, Long> sentAtNanos = new ConcurrentHashMap<>();
        List<CompletableFuture<?>> calls = new ArrayList<>();
        for (String regId : regIds) {
            sentAtNanos.put(regId, System.nanoTime());
            calls.add(api.pushNotification(devices.regId(regId), "hi " + regId, "body of " + regId).thenAccept(r -> {
                assertEquals(200, r.status(), () -> "push to " + regId + ": " + r.body());
                msgIdByReg.put(regId, r.body().get("msgId").asText());
            }));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
        assertEquals(DEVICES, msgIdByReg.size());

        await().atMost(Duration.ofSeconds(30)).until(() -> regIds.stream().allMatch(r -> !devices.receivedBy(r).isEmpty()));
        long[] latencyMicros = new long[DEVICES];
        for (int i = 0; i < DEVICES; i++) {
            String regId = regIds.get(i);
            List<PushMessage> got = devices.receivedBy(regId);
            assertEquals(1, got.size(), regId + " received " + got);
            PushMessage m = got.get(0);
            assertEquals(msgIdByReg.get(regId), Long.toString(m.msgId()), "each device gets its own message");
            assertTrue(m.payload().contains("\"title\":\"hi " + regId + "\""), m.payload());
            latencyMicros[i] = (m.receivedAtNanos() - sentAtNanos.get(regId)) / 1000;
        }
        report("burst of " + DEVICES + " concurrent pushes", latencyMicros);

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() ->
                msgIdByReg.values().stream().allMatch(id -> api.status(id).equals("delivered")));
        // Nothing arrives twice later either (acks stopped any redelivery).
        assertTrue(regIds.stream().allMatch(r -> devices.receivedBy(r).size() == 1));

        // Unloaded latency: one push in flight at a time, each waited for at its device.
        long[] sequential = new long[DEVICES];
        for (int i = 0; i < DEVICES; i++) {
            String regId = regIds.get(i);
            long start = System.nanoTime();
            PushApiClient.Response r = api.pushNotification(devices.regId(regId), "again", "second").join();
            assertEquals(200, r.status());
            assertEquals("sent", r.body().get("status").asText());
            String status = api.status(r.body().get("msgId").asText());
            assertTrue(status.equals("sent") || status.equals("delivered"),
                    "a status read after the answer sees at least what the answer said, got " + status);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
                    .until(() -> devices.receivedBy(regId).size() == 2);
            sequential[i] = (devices.receivedBy(regId).get(1).receivedAtNanos() - start) / 1000;
        }
        report("one push at a time", sequential);
    }

    /** Latency is reported for the closing note and benchmarks, never asserted. */
    private static void report(String what, long[] micros) {
        long[] sorted = micros.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        System.out.printf("[e2e] %s, API call to device receipt on loopback: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                what, sorted[n / 2] / 1000.0, sorted[n * 99 / 100] / 1000.0, sorted[n - 1] / 1000.0);
    }
}
