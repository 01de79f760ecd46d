package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.tern.client.TernClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Callbacks cannot reach inside: callback URLs that are or resolve to internal addresses are refused with
 * 400 {@code callback.url}, on single pushes and task payloads; the one allow-listed loopback port gets its
 * receipts.
 */
class CallbackUrlIT {
    private static PlatformFixture platform;
    private static Devices devices;
    private static PushApiClient api;
    private static HttpServer allowed;
    private static HttpServer notAllowed;
    private static final List<JsonNode> receipts = new CopyOnWriteArrayList<>();
    private static final AtomicInteger notAllowedHits = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        allowed = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        allowed.createContext("/receipts", exchange -> {
            try (exchange) {
                PushApiClient.JSON.readTree(exchange.getRequestBody().readAllBytes()).get("receipts").forEach(receipts::add);
                exchange.sendResponseHeaders(200, -1);
            }
        });
        allowed.start();
        notAllowed = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        notAllowed.createContext("/", exchange -> {
            try (exchange) {
                notAllowedHits.incrementAndGet();
                exchange.sendResponseHeaders(200, -1);
            }
        });
        notAllowed.start();
        platform = PlatformFixture.start("e2e-callback-url",
                Map.of("logic.callback.allow", "127.0.0.1:" + allowed.getAddress().getPort()));
        devices = platform.devices();
        api = platform.api();
    }

    @AfterAll
    static void stop() {
        devices.close();
        platform.close();
        allowed.stop(0);
        notAllowed.stop(0);
    }

    private static String pushWithCallback(String regId, String url) {
        return "{\"regId\":\"" + regId + "\",\"data\":{\"k\":1},\"callback\":{\"url\":" + PushApiClient.JSON.valueToTree(url) + "}}";
    }

    private static void assertRefused(PushApiClient.Response r, String url) {
        assertEquals(400, r.status(), url + " -> " + r.body());
        assertEquals("invalid_field", r.body().get("code").asText(), url);
        assertEquals("callback.url", r.body().get("field").asText(), url);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:%d/receipts-other-port", "http://10.0.0.1/", "http://[::1]/",
            "http://169.254.169.254/latest/meta-data", "http://localhost:%d/", "http://2130706433/", "http://0x7f000001/",
            "http://0177.0.0.1/", "http://[fd00:ec2::254]/", "http://192.168.0.10:8080/", "http://100.64.1.1/",
            "http://[fe80::1]/", "http://0.0.0.0:%d/", "http://metadata.google.internal/", "ftp://93.184.216.34/",
            "http://user:pw@93.184.216.34/"})
    void internalCallbackUrlsAre400NamingTheField(String template) {
        String url = String.format(template, notAllowed.getAddress().getPort());
        // The URL is refused before the device is looked up: any regId will do.
        assertRefused(api.post("/v1/push/single", pushWithCallback("cb-unregistered", url)).join(), url);
        assertRefused(api.post("/v1/push/payload", "{\"notification\":{\"title\":\"t\",\"body\":\"b\"},"
                + "\"callback\":{\"url\":" + PushApiClient.JSON.valueToTree(url) + "}}").join(), url);
        assertEquals(0, notAllowedHits.get(), "nothing reached the internal server");
    }

    @Test
    void theAllowListedLoopbackPortIsAcceptedAndGetsTheReceipt() {
        TernClient device = devices.start("cb-dev");
        await().atMost(Duration.ofSeconds(15)).until(() -> device.state() == TernClient.State.CONNECTED);
        String regId = devices.regId("cb-dev");
        String url = "http://127.0.0.1:" + allowed.getAddress().getPort() + "/receipts";
        PushApiClient.Response r = api.post("/v1/push/single", pushWithCallback(regId, url)).join();
        assertEquals(200, r.status(), r.body().toString());
        String msgId = r.body().get("msgId").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> receipts.stream()
                .anyMatch(x -> x.get("id").asText().equals(msgId) && x.get("regId").asText().equals(regId)));
        assertTrue(devices.receivedBy("cb-dev").stream().anyMatch(m -> Long.toString(m.msgId()).equals(msgId)));
        assertEquals(0, notAllowedHits.get());
    }
}
