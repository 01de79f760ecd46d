package io.tern.local.e2e;

import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Devices offline at push time: queued delivery on reconnect, and TTL expiry. */
class OfflineDeliveryIT {
    private static PlatformFixture platform;
    private static Devices devices;
    private static PushApiClient api;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-offline");
        devices = platform.devices();
        api = platform.api();
    }

    @AfterAll
    static void stop() {
        devices.close();
        platform.close();
    }

    /** Connects once (so the platform knows the device), then goes offline. */
    private static void knownButOffline(String regId) {
        TernClient c = devices.start(regId);
        await().atMost(Duration.ofSeconds(15)).until(() -> c.state() == TernClient.State.CONNECTED);
        int connectedBefore = connections();
        devices.stop(regId);
        await().atMost(Duration.ofSeconds(5)).until(() -> connections() == connectedBefore - 1);
    }

    private static int connections() {
        return platform.cluster.brokers().stream().mapToInt(b -> b.connectionCount()).sum();
    }

    @Test
    void aDeviceOfflineAtPushTimeReceivesTheMessageWhenItConnects() {
        knownButOffline("sleepy-1");
        PushApiClient.Response r = api.pushNotification(devices.regId("sleepy-1"), "while you were away", "queued").join();
        assertEquals(200, r.status(), () -> r.body().toString());
        assertEquals("offline", r.body().get("status").asText());
        String msgId = r.body().get("msgId").asText();

        devices.start("sleepy-1");
        await().atMost(Duration.ofSeconds(15)).until(() -> !devices.receivedBy("sleepy-1").isEmpty());
        List<PushMessage> got = devices.receivedBy("sleepy-1");
        assertEquals(1, got.size());
        assertEquals(msgId, Long.toString(got.get(0).msgId()));
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                .until(() -> api.status(msgId).equals("delivered"));
    }

    @Test
    void aMessageWhoseTtlPassedIsNeverDeliveredAndShowsExpired() {
        knownButOffline("sleepy-2");
        PushApiClient.Response shortLived = api.post("/v1/push/single",
                "{\"regId\":\"" + devices.regId("sleepy-2") + "\",\"data\":{\"n\":1},\"ttlSeconds\":1}").join();
        assertEquals(200, shortLived.status());
        String expiredId = shortLived.body().get("msgId").asText();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> api.status(expiredId).equals("expired"));
        // A second, long-lived message proves the device did catch up when it reconnected.
        PushApiClient.Response longLived = api.post("/v1/push/single",
                "{\"regId\":\"" + devices.regId("sleepy-2") + "\",\"data\":{\"n\":2}}").join();
        String liveId = longLived.body().get("msgId").asText();

        devices.start("sleepy-2");
        await().atMost(Duration.ofSeconds(15)).until(() -> !devices.receivedBy("sleepy-2").isEmpty());
        await().atMost(Duration.ofSeconds(15)).until(() -> api.status(liveId).equals("delivered"));
        List<PushMessage> got = devices.receivedBy("sleepy-2");
        assertEquals(1, got.size(), "only the live message arrives: " + got);
        assertEquals(liveId, Long.toString(got.get(0).msgId()));
        assertEquals("expired", api.status(expiredId));
    }
}
