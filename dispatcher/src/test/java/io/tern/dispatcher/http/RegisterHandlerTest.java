package io.tern.dispatcher.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.dispatcher.config.DeviceIdentityConfig;
import io.tern.dispatcher.identity.DeviceIdentity;
import io.tern.protocol.token.DeviceSecrets;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegisterHandlerTest {
    private static final String DEVICE_KEY = "unit-test-device-key-0123456789";
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    /** What the admin API stored: "stored1", and "app1" again, whose configured key must win. */
    private static final Map<String, byte[]> STORED = Map.of(
            "stored1", "stored1-client-key".getBytes(StandardCharsets.UTF_8),
            "app1", "stored-app1-client-key".getBytes(StandardCharsets.UTF_8));
    private final RegisterHandler handler = new RegisterHandler(new DeviceIdentity(
            new DeviceIdentityConfig(DEVICE_KEY, Map.of("app1", "app1-client-key", "app2", "app2-client-key"),
                    Duration.ofMinutes(5)), STORED::get, new SecureRandom()), registry, "t1");

    private static HttpRequest post(String body) {
        return new HttpRequest(HttpMethod.POST, RegisterHandler.PATH, Map.of(), Map.of(), new DefaultHttpHeaders(),
                body.getBytes(StandardCharsets.UTF_8));
    }

    private double count(String outcome) {
        return registry.get("dispatcher.registrations").tag("outcome", outcome).counter().count();
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyRegistrationIssuesANewUnguessableRegIdWithItsDerivedSecret() {
        DeviceSecrets secrets = new DeviceSecrets(DEVICE_KEY.getBytes(StandardCharsets.UTF_8));
        Set<String> regIds = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            HttpResponse r = handler.register(post("{\"appId\":\"app1\",\"clientKey\":\"app1-client-key\"}"));
            assertEquals(200, r.status());
            assertEquals("no-store", r.headers().get("Cache-Control"));
            Map<String, String> body = (Map<String, String>) r.body();
            String regId = body.get("regId");
            assertTrue(regId.matches("[0-9a-f]{32}"), "128 bits as hex, inside the id pattern: " + regId);
            assertTrue(DispatchHandler.ID.matcher(regId).matches());
            assertEquals(secrets.secretFor("app1", regId), body.get("deviceSecret"));
            regIds.add(regId);
        }
        assertEquals(1000, regIds.size(), "no regId issued twice");
        assertEquals(1000, count("ok"));
    }

    @Test
    void aStoredAppRegistersWithItsClientKey() {
        assertEquals(200, handler.register(post("{\"appId\":\"stored1\",\"clientKey\":\"stored1-client-key\"}")).status());
        assertEquals(1, count("ok"));
    }

    @Test
    void aWrongClientKeyOrUnknownAppIsUnauthorized() {
        for (String body : new String[]{"{\"appId\":\"app1\",\"clientKey\":\"app2-client-key\"}",
                "{\"appId\":\"app1\",\"clientKey\":\"app1-client-ke\"}",
                "{\"appId\":\"app1\",\"clientKey\":\"stored-app1-client-key\"}",
                "{\"appId\":\"stored1\",\"clientKey\":\"app1-client-key\"}",
                "{\"appId\":\"nope\",\"clientKey\":\"app1-client-key\"}"}) {
            ApiException e = assertThrows(ApiException.class, () -> handler.register(post(body)));
            assertEquals(401, e.status(), body);
            assertEquals("unauthorized", e.code());
            assertNull(e.field());
        }
        assertEquals(5, count("unauthorized"));
    }

    @Test
    void aMalformedBodyIsBadRequestNamingTheField() {
        assertField("body", "");
        assertField("body", "not json");
        assertField("body", "[1,2]");
        assertField("appId", "{\"clientKey\":\"app1-client-key\"}");
        assertField("appId", "{\"appId\":7,\"clientKey\":\"app1-client-key\"}");
        assertField("appId", "{\"appId\":\"app one\",\"clientKey\":\"app1-client-key\"}");
        assertField("clientKey", "{\"appId\":\"app1\"}");
        assertField("clientKey", "{\"appId\":\"app1\",\"clientKey\":\"\"}");
        assertEquals(8, count("invalid_field"));
    }

    private void assertField(String field, String body) {
        ApiException e = assertThrows(ApiException.class, () -> handler.register(post(body)));
        assertEquals(400, e.status(), body);
        assertEquals("invalid_field", e.code());
        assertEquals(field, e.field(), body);
    }
}
