package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.ops.cli.app.AppCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An app created at run time with {@code ternctl app create} is usable end to end with what the command printed:
 * its devices register at the dispatcher with the client key (once the dispatcher re-read the stored apps), connect,
 * and receive what its server pushes after signing in with the key and secret.
 */
class CreatedAppEndToEndIT {
    private static final String SRE_TOKEN = "created-app-e2e-sre-token-0123456789";
    private static final Duration APPS_REFRESH = Duration.ofMillis(200);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static PlatformFixture platform;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start("e2e-created-base", Map.of("logic.sre-token", SRE_TOKEN,
                "dispatcher.apps-refresh", APPS_REFRESH.toMillis() + "ms"));
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    private static JsonNode ternctlAppCreate(String appId) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new AppCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of("TERN_LOGIC_URL", "http://127.0.0.1:" + platform.cluster.logic().address().getPort(),
                        "TERN_SRE_TOKEN", SRE_TOKEN))
                .run(List.of("create", appId, "--output", "json"));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        return PushApiClient.JSON.readTree(out.toString(StandardCharsets.UTF_8));
    }

    private static int register(String appId, String clientKey) throws Exception {
        int port = platform.cluster.dispatcher().address().getPort();
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/register"))
                .POST(HttpRequest.BodyPublishers.ofString(PushApiClient.JSON.createObjectNode()
                        .put("appId", appId).put("clientKey", clientKey).toString())).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void aDeviceOfAnAppMadeWithTernctlRegistersWithThePrintedClientKeyAndReceivesAPush() throws Exception {
        String appId = "e2e-created-" + UUID.randomUUID().toString().substring(0, 8);
        JsonNode created = ternctlAppCreate(appId);
        String clientKey = created.path("clientKey").asText();

        await().atMost(APPS_REFRESH.multipliedBy(2).plusSeconds(2)).pollInterval(Duration.ofMillis(50))
                .until(() -> register(appId, clientKey) == 200);
        assertEquals(401, register(appId, created.path("appSecret").asText()), "the app secret is no client key");

        try (Devices devices = new Devices(platform.cluster.dispatcher().address(), appId, clientKey, null)) {
            TernClient device = devices.start("phone");
            await().atMost(Duration.ofSeconds(15)).until(() -> device.state() == TernClient.State.CONNECTED);
            PushApiClient api = new PushApiClient(platform.cluster.logic().address())
                    .login(appId, created.path("appKey").asText(), created.path("appSecret").asText());
            PushApiClient.Response r = api.pushNotification(devices.regId("phone"), "hello", "from a new app").join();
            assertEquals(200, r.status(), () -> String.valueOf(r.body()));
            String msgId = r.body().get("msgId").asText();
            await().atMost(Duration.ofSeconds(10)).until(() -> devices.receivedBy("phone").stream()
                    .map(PushMessage::msgId).anyMatch(id -> Long.toString(id).equals(msgId)));
        }
    }
}
