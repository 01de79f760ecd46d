package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.protocol.token.DispatchSignature;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Devices cannot be impersonated, black box: the whole platform, devices registered through the SDK, and a
 * second party that talks HTTP to the dispatcher as an attacker would.
 */
class DeviceIdentityIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static PlatformFixture platform;
    private static Devices devices;
    private static PushApiClient api;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-identity");
        devices = platform.devices();
        api = platform.api();
    }

    @AfterAll
    static void stop() {
        devices.close();
        platform.close();
    }

    private static HttpResponse<String> dispatcher(HttpRequest.Builder request, String pathAndQuery) throws Exception {
        var d = platform.cluster.dispatcher().address();
        return HTTP.send(request.uri(URI.create("http://127.0.0.1:" + d.getPort() + pathAndQuery)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode register() throws Exception {
        HttpResponse<String> r = dispatcher(HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(
                "{\"appId\":\"" + platform.appId + "\",\"clientKey\":\"" + PlatformFixture.clientKey(platform.appId) + "\"}")),
                "/v1/register");
        assertEquals(200, r.statusCode(), r.body());
        return PushApiClient.JSON.readTree(r.body());
    }

    private static HttpResponse<String> dispatch(String regId, long ts, String sign) throws Exception {
        String query = "/v1/dispatch?appId=" + platform.appId + "&regId=" + regId
                + (ts == 0 ? "" : "&ts=" + ts) + (sign == null ? "" : "&sign=" + sign);
        return dispatcher(HttpRequest.newBuilder().GET(), query);
    }

    private static void assertUnauthorized(HttpResponse<String> r) throws Exception {
        assertEquals(401, r.statusCode(), r.body());
        JsonNode body = PushApiClient.JSON.readTree(r.body());
        assertEquals("unauthorized", body.get("code").asText());
        assertFalse(body.has("token"), "no connect token issued");
    }

    @Test
    void registrationIssuesADistinctRegIdEveryTime() throws Exception {
        Set<String> regIds = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            String regId = register().get("regId").asText();
            assertTrue(regId.matches("[A-Za-z0-9._:-]{32,128}"), regId);
            regIds.add(regId);
        }
        assertEquals(20, regIds.size());
    }

    @Test
    void someoneWhoKnowsAVictimsRegIdButNotItsSecretCannotTakeOverItsSession() throws Exception {
        TernClient victim = devices.start("victim");
        await().atMost(Duration.ofSeconds(15)).until(() -> victim.state() == TernClient.State.CONNECTED);
        String victimRegId = devices.regId("victim");
        // The attacker registers a device of its own, so it holds a valid secret, just not the victim's.
        String attackerSecret = register().get("deviceSecret").asText();
        long now = System.currentTimeMillis();

        assertUnauthorized(dispatch(victimRegId, 0, null));
        assertUnauthorized(dispatch(victimRegId, now, DispatchSignature.sign(attackerSecret, platform.appId, victimRegId, now)));
        assertUnauthorized(dispatch(victimRegId, now, "0".repeat(64)));

        // The victim's session was never replaced: it is still connected and a push reaches it.
        PushApiClient.Response r = api.pushNotification(victimRegId, "still yours", "only you").join();
        assertEquals(200, r.status(), () -> String.valueOf(r.body()));
        assertEquals("sent", r.body().get("status").asText());
        String msgId = r.body().get("msgId").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> devices.receivedBy("victim").stream()
                .map(PushMessage::msgId).anyMatch(id -> Long.toString(id).equals(msgId)));
        assertEquals(TernClient.State.CONNECTED, victim.state());
        assertEquals(0, victim.stats().reconnects(), "no SESSION_REPLACED, no reconnect");
    }

    @Test
    void anUnsignedOrStaleDispatchIsUnauthorized() throws Exception {
        JsonNode device = register();
        String regId = device.get("regId").asText();
        String secret = device.get("deviceSecret").asText();
        long now = System.currentTimeMillis();
        long stale = now - Duration.ofMinutes(6).toMillis();

        assertUnauthorized(dispatch(regId, 0, null));
        assertUnauthorized(dispatch(regId, now, null));
        assertUnauthorized(dispatch(regId, stale, DispatchSignature.sign(secret, platform.appId, regId, stale)));

        HttpResponse<String> fresh = dispatch(regId, now, DispatchSignature.sign(secret, platform.appId, regId, now));
        assertEquals(200, fresh.statusCode(), fresh.body());
        assertTrue(PushApiClient.JSON.readTree(fresh.body()).has("token"));
    }

    @Test
    void pushesToARegIdThePlatformNeverIssuedAre404() throws Exception {
        PushApiClient.Response never = api.pushNotification("0123456789abcdef0123456789abcdef", "t", "b").join();
        assertEquals(404, never.status(), () -> String.valueOf(never.body()));
        assertEquals("regId", never.body().get("field").asText());

        // Issued but never connected: the platform has never seen it, so it is unknown too.
        String registered = register().get("regId").asText();
        assertEquals(404, api.pushNotification(registered, "t", "b").join().status());
    }
}
