package io.tern.dispatcher.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.dispatcher.config.DeviceIdentityConfig;
import io.tern.dispatcher.allocation.BrokerAllocatorTest;
import io.tern.store.region.RegionPolicy;
import io.tern.dispatcher.identity.DeviceIdentity;
import io.tern.protocol.token.DeviceSecrets;
import io.tern.protocol.token.DispatchSignature;
import io.tern.store.registry.BrokerSnapshot;
import io.tern.protocol.token.ConnectTokenSigner;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.store.registry.BrokerInfo;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DispatchHandlerTest {
    private static final byte[] SECRET = "unit-test-secret-0123456789".getBytes(StandardCharsets.UTF_8);
    private static final long NOW = 1_700_000_000_000L;

    private final AtomicReference<BrokerSnapshot> snapshot = new AtomicReference<>(BrokerSnapshot.NONE);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private static final String DEVICE_KEY = "unit-test-device-key-0123456789";
    private static final DeviceSecrets SECRETS = new DeviceSecrets(DEVICE_KEY.getBytes(StandardCharsets.UTF_8));
    private final DeviceIdentity identity = new DeviceIdentity(
            new DeviceIdentityConfig(DEVICE_KEY, Map.of("app1", "app1-client-key"), Duration.ofMinutes(5)),
            appId -> null, new SecureRandom());
    private final AtomicReference<RegionPolicy> policy = new AtomicReference<>(RegionPolicy.EMPTY);
    private final DispatchHandler handler = new DispatchHandler(snapshot::get, policy::get, identity, new ConnectTokenSigner(SECRET),
            Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC), "local", 3, 1, Duration.ofHours(1), registry, "t1");

    private static HttpRequest get(String... kv) {
        Map<String, List<String>> query = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            query.put(kv[i], List.of(kv[i + 1]));
        }
        return new HttpRequest(HttpMethod.GET, DispatchHandler.PATH, Map.of(), query, new DefaultHttpHeaders(), new byte[0]);
    }

    /** A request signed by device {@code regId} of {@code appId} with its own secret at {@code ts}, plus {@code more}. */
    private static HttpRequest signed(String appId, String regId, long ts, String... more) {
        String sign = DispatchSignature.sign(SECRETS.secretFor(appId, regId), appId, regId, ts);
        String[] kv = new String[8 + more.length];
        System.arraycopy(new String[]{"appId", appId, "regId", regId, "ts", Long.toString(ts), "sign", sign}, 0, kv, 0, 8);
        System.arraycopy(more, 0, kv, 8, more.length);
        return get(kv);
    }

    private static HttpRequest signed(String appId, String regId, String... more) {
        return signed(appId, regId, NOW, more);
    }

    private void brokers(BrokerInfo... live) {
        snapshot.set(new BrokerSnapshot(List.of(live), NOW));
    }

    private ApiException rejected(HttpRequest request) {
        return assertThrows(ApiException.class, () -> handler.dispatch(request));
    }

    private double count(String outcome) {
        return registry.get("dispatcher.dispatches").tag("outcome", outcome).counter().count();
    }

    @Test
    void missingOrMalformedIdsAreRejectedNamingTheField() {
        brokers(new BrokerInfo("b1", "local", "h:1", null, "h:2", 0, 0));

        assertField("appId", rejected(get("regId", "r1")));
        assertField("appId", rejected(get("appId", "", "regId", "r1")));
        assertField("appId", rejected(get("appId", "app one", "regId", "r1")));
        assertField("regId", rejected(get("appId", "app1")));
        assertField("regId", rejected(get("appId", "app1", "regId", "r".repeat(129))));
        assertField("regId", rejected(get("appId", "app1", "regId", "r\n1")));
        assertField("region", rejected(signed("app1", "r1", "region", "north/east")));
        assertField("ts", rejected(get("appId", "app1", "regId", "r1", "ts", "yesterday", "sign", "00")));
        assertEquals(8, count("invalid_field"));
    }

    private static void assertField(String field, ApiException e) {
        assertEquals(400, e.status());
        assertEquals("invalid_field", e.code());
        assertEquals(field, e.field());
    }

    @Test
    void noLiveBrokerIsServiceUnavailable() {
        ApiException e = rejected(signed("app1", "r1"));

        assertEquals(503, e.status());
        assertEquals("no_brokers", e.code());
        assertNull(e.field());
        assertEquals(1, count("no_brokers"));
    }

    @Test
    void answerCarriesOrderedAddressesAndAVerifiableToken() {
        brokers(new BrokerInfo("b1", "local", "10.0.0.1:7000", "10.0.0.1:7001", "10.0.0.1:7100", 9, 0),
                new BrokerInfo("b2", "local", "10.0.0.2:7000", null, "10.0.0.2:7100", 1, 0),
                new BrokerInfo("e1", "east", "10.1.0.1:7000", "wss://e1.example:443/v1/ws", "10.1.0.1:7100", 0, 0));

        HttpResponse resp = handler.dispatch(signed("app1", "r1"));

        assertEquals(200, resp.status());
        assertEquals("no-store", resp.headers().get("Cache-Control"));
        DispatchResponse body = (DispatchResponse) resp.body();
        assertEquals(List.of("10.0.0.2:7000", "10.0.0.1:7000", "10.1.0.1:7000"), body.brokers());
        assertEquals(List.of("ws://10.0.0.1:7001/v1/ws", "wss://e1.example:443/v1/ws"), body.wsBrokers());
        assertEquals("local", body.region());
        assertEquals(NOW + Duration.ofHours(1).toMillis(), body.expiresAt());

        var verified = new ConnectTokenSigner(SECRET).verify(body.token(), NOW);
        assertTrue(verified.valid(), verified.detail());
        assertEquals("app1", verified.claims().appId());
        assertEquals("r1", verified.claims().regId());
        assertEquals("local", verified.claims().region());
        assertEquals(body.expiresAt(), verified.claims().expiresAtMillis());
        assertEquals(1, count("ok"));
    }

    @Test
    void aFailedOverHomeIsAnsweredWithTheServingRegionsBrokersWhileTheTokenKeepsTheHomeRegion() {
        brokers(new BrokerInfo("n1", "north", "n1:7000", null, "n1:7100", 0, 0),
                new BrokerInfo("s1", "south", "s1:7000", null, "s1:7100", 50, 0));
        policy.set(BrokerAllocatorTest.policy("north:failed-over:south"));

        DispatchResponse body = (DispatchResponse) handler.dispatch(signed("app1", "r1", "region", "north")).body();

        assertEquals(List.of("s1:7000"), body.brokers());
        assertEquals("north", body.region());
        assertEquals("north", new ConnectTokenSigner(SECRET).verify(body.token(), NOW).claims().region());
        assertEquals(1, registry.get("dispatcher.dispatches.served").tag("region", "south").counter().count());
    }

    @Test
    void requestedRegionBecomesTheHomeRegionAndTheTokenRegion() {
        brokers(new BrokerInfo("n1", "north", "n1:7000", null, "n1:7100", 50, 0),
                new BrokerInfo("l1", "local", "l1:7000", null, "l1:7100", 0, 0));

        DispatchResponse body = (DispatchResponse) handler.dispatch(
                signed("app1", "r1", "region", "north")).body();

        assertEquals(List.of("n1:7000", "l1:7000"), body.brokers());
        assertEquals("north", body.region());
        assertEquals("north", new ConnectTokenSigner(SECRET).verify(body.token(), NOW).claims().region());
    }

    @Test
    void unknownRegionStillGetsOtherRegionsBrokers() {
        brokers(new BrokerInfo("l1", "local", "l1:7000", null, "l1:7100", 0, 0));

        DispatchResponse body = (DispatchResponse) handler.dispatch(
                signed("app1", "r1", "region", "atlantis")).body();

        assertEquals(List.of("l1:7000"), body.brokers());
        assertEquals("atlantis", body.region());
    }

    @Test
    void noTokenWithoutTheDevicesOwnSignatureWithinTheClockSkew() {
        brokers(new BrokerInfo("b1", "local", "h:1", null, "h:2", 0, 0));
        String victimSign = DispatchSignature.sign(SECRETS.secretFor("app1", "victim"), "app1", "victim", NOW);
        String otherSecret = SECRETS.secretFor("app1", "attacker");

        assertUnauthorized(rejected(get("appId", "app1", "regId", "victim")));
        assertUnauthorized(rejected(get("appId", "app1", "regId", "victim", "ts", Long.toString(NOW))));
        assertUnauthorized(rejected(get("appId", "app1", "regId", "victim", "sign", victimSign)));
        assertUnauthorized(rejected(get("appId", "app1", "regId", "victim", "ts", Long.toString(NOW), "sign",
                DispatchSignature.sign(otherSecret, "app1", "victim", NOW))));
        assertUnauthorized(rejected(get("appId", "app1", "regId", "victim", "ts", Long.toString(NOW + 1), "sign", victimSign)));
        assertUnauthorized(rejected(signed("app1", "victim", NOW - Duration.ofMinutes(5).toMillis() - 1)));
        assertUnauthorized(rejected(signed("app1", "victim", NOW + Duration.ofMinutes(5).toMillis() + 1)));
        assertUnauthorized(rejected(signed("app1", "victim", Long.MIN_VALUE)));
        assertUnauthorized(rejected(signed("unknown-app", "victim")));
        assertEquals(9, count("unauthorized"));
        assertEquals(0, count("ok"));

        assertEquals(200, handler.dispatch(signed("app1", "victim", NOW - Duration.ofMinutes(5).toMillis())).status());
        assertEquals(200, handler.dispatch(get("appId", "app1", "regId", "victim", "ts", Long.toString(NOW), "sign",
                victimSign)).status());
    }

    private static void assertUnauthorized(ApiException e) {
        assertEquals(401, e.status());
        assertEquals("unauthorized", e.code());
    }

    @Test
    void failuresAnswerThroughTheFutureNotByThrowing() {
        var f = handler.handle(get("appId", "app1"));

        assertTrue(f.isCompletedExceptionally());
    }
}
