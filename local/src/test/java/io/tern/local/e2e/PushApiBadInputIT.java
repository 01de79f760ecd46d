package io.tern.local.e2e;

import io.tern.client.TernClient;
import io.tern.logic.auth.AppAuthenticator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bad requests get a clear 4xx naming what is wrong, and nothing is pushed twice. */
class PushApiBadInputIT {
    private static PlatformFixture platform;
    private static Devices devices;
    private static PushApiClient api;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-input");
        devices = platform.devices();
        TernClient c = devices.start("known-1");
        await().atMost(Duration.ofSeconds(15)).until(() -> c.state() == TernClient.State.CONNECTED);
        api = platform.api();
    }

    @AfterAll
    static void stop() {
        devices.close();
        platform.close();
    }

    private PushApiClient anonymous() {
        return new PushApiClient(platform.cluster.logic().address());
    }

    @Test
    void wrongSignatureIs401() {
        long ts = System.currentTimeMillis();
        PushApiClient.Response r = anonymous().auth(platform.appId, PlatformFixture.APP_KEY, ts,
                AppAuthenticator.sign(platform.appId, PlatformFixture.APP_KEY, ts, "not-the-secret"));
        assertEquals(401, r.status());
        assertEquals("unauthorized", r.body().get("code").asText());
    }

    @Test
    void staleTimestampIs401() {
        long ts = System.currentTimeMillis() - Duration.ofMinutes(6).toMillis();
        PushApiClient.Response r = anonymous().auth(platform.appId, PlatformFixture.APP_KEY, ts,
                AppAuthenticator.sign(platform.appId, PlatformFixture.APP_KEY, ts, PlatformFixture.APP_SECRET));
        assertEquals(401, r.status());
    }

    @Test
    void pushWithoutAuthTokenIs401() {
        assertEquals(401, anonymous().pushNotification(devices.regId("known-1"), "t", "b").join().status());
    }

    @Test
    void bodyOver4KiBIs413() {
        String big = "x".repeat(4200);
        PushApiClient.Response r = api.post("/v1/push/single",
                "{\"regId\":\"" + devices.regId("known-1") + "\",\"notification\":{\"title\":\"t\",\"body\":\"" + big + "\"}}").join();
        assertEquals(413, r.status());
        assertEquals("body", r.body().get("field").asText());
    }

    @Test
    void missingFieldIs400NamingIt() {
        PushApiClient.Response r = api.post("/v1/push/single", "{\"notification\":{\"title\":\"t\",\"body\":\"b\"}}").join();
        assertEquals(400, r.status());
        assertEquals("regId", r.body().get("field").asText());
    }

    @Test
    void invalidFieldIs400NamingIt() {
        PushApiClient.Response r = api.post("/v1/push/single",
                "{\"regId\":\"" + devices.regId("known-1") + "\",\"data\":{\"a\":1},\"ttlSeconds\":999999999}").join();
        assertEquals(400, r.status());
        assertEquals("ttlSeconds", r.body().get("field").asText());
    }

    @Test
    void unknownRegIdIs404() {
        PushApiClient.Response r = api.pushNotification("never-connected", "t", "b").join();
        assertEquals(404, r.status());
        assertEquals("regId", r.body().get("field").asText());
    }

    @Test
    void unknownMsgIdIs404() {
        assertEquals(404, api.get("/v1/messages/12345").status());
        assertEquals(400, api.get("/v1/messages/not-a-number").status());
    }

    @Test
    void sameRequestIdTwiceGivesTheSameMsgIdAndOneDelivery() {
        String body = "{\"regId\":\"" + devices.regId("known-1") + "\",\"data\":{\"once\":true},\"requestId\":\"req-42\"}";
        PushApiClient.Response first = api.post("/v1/push/single", body).join();
        PushApiClient.Response second = api.post("/v1/push/single", body).join();
        assertEquals(200, first.status());
        assertEquals(200, second.status());
        String msgId = first.body().get("msgId").asText();
        assertEquals(msgId, second.body().get("msgId").asText());
        await().atMost(Duration.ofSeconds(10)).until(() -> api.status(msgId).equals("delivered"));
        long copies = devices.receivedBy("known-1").stream().filter(m -> Long.toString(m.msgId()).equals(msgId)).count();
        assertEquals(1, copies);
        // The SDK hides duplicates from the app; its counter shows whether one reached the device.
        assertEquals(0, devices.client("known-1").stats().duplicatesDropped(), "pushed once, not twice");
        // A third call after delivery still answers the same message, with its current status.
        PushApiClient.Response third = api.post("/v1/push/single", body).join();
        assertEquals(msgId, third.body().get("msgId").asText());
        assertEquals("delivered", third.body().get("status").asText());
    }
}
