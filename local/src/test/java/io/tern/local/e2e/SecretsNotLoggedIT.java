package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.tern.client.TernClient;
import io.tern.devstack.RedisServer;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.protocol.token.DispatchSignature;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No secret in logs or metrics. The platform runs with distinctive secrets (app secret, auth-token and
 * connect-token secrets, a Redis password inside the Redis URI) while every log line of every role (all
 * in this JVM, through slf4j-simple to System.err) is captured; the test authenticates, fails to
 * authenticate, presents a bad auth token and a forged connect token, registers, dispatches, connects, pushes with a
 * receipt callback, then scrapes every role's /metrics and /health and looks for each secret, the tokens the
 * platform handed out, and their base64 / hex forms.
 */
class SecretsNotLoggedIT {
    private static final String APP = "leakcheck";
    private static final String APP_KEY = "leakcheck-key";
    private static final String REDIS_PASSWORD = "RedisPw-q8Vt3Lz";

    /**
     * Secrets given to the platform in its settings, each scanned for. A new configured secret (a device-registration
     * key, a cluster secret) is one more line here: its settings key and a distinctive value.
     */
    private static final Map<String, String> CONFIGURED_SECRETS = Map.of(
            "logic.apps." + APP + ".secret", "AppSecret-Kx7Qm2Wd",
            "logic.auth-token-secret", "AuthTokenSecret-Hq83LxPe",
            "dispatcher.token-secret", "ConnectTokenSecret-Vb27NpRs",
            "broker.token-secret", "ConnectTokenSecret-Vb27NpRs",
            "dispatcher.device-key", "DeviceKey-Tw94MzQa",
            "broker.cluster-secret", "ClusterSecret-Jn52RbYc",
            "logic.cluster-secret", "ClusterSecret-Jn52RbYc");

    private static final LogCapture logs = new LogCapture();
    /** Secret values the platform handed out during the test (tokens), added as they are seen. */
    private static final List<String> issuedSecrets = new CopyOnWriteArrayList<>();
    private static final HttpClient http = HttpClient.newHttpClient();
    private static RedisServer redis;
    private static PlatformFixture platform;
    private static Devices devices;
    private static HttpServer appServer;
    private static HttpServer forgingDispatcher;
    private static final List<JsonNode> receipts = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        logs.start();
        redis = RedisServer.start(RedisServer.Options.defaults().withPassword(REDIS_PASSWORD));
        appServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        appServer.createContext("/receipts", exchange -> {
            try (exchange) {
                PushApiClient.JSON.readTree(exchange.getRequestBody().readAllBytes()).get("receipts").forEach(receipts::add);
                exchange.sendResponseHeaders(200, -1);
            }
        });
        appServer.start();
        Map<String, String> settings = new LinkedHashMap<>(CONFIGURED_SECRETS);
        settings.put("logic.apps." + APP + ".key", APP_KEY);
        settings.put("logic.callback.allow", "127.0.0.1:" + appServer.getAddress().getPort());
        platform = PlatformFixture.start(APP, settings, redis);
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
        if (forgingDispatcher != null) {
            forgingDispatcher.stop(0);
        }
        if (appServer != null) {
            appServer.stop(0);
        }
        if (redis != null) {
            redis.close();
        }
        logs.stop();
    }

    private static String appSecret() {
        return CONFIGURED_SECRETS.get("logic.apps." + APP + ".secret");
    }

    private static HttpResponse<String> send(HttpRequest.Builder req) throws Exception {
        return http.send(req.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(InetSocketAddress to, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to.getPort() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("authToken", token);
        }
        return send(b);
    }

    private static String get(InetSocketAddress from, String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + from.getPort() + path)).GET()).body();
    }

    @Test
    void noSecretAppearsInAnyLogLineMetricOrHealthAnswer() throws Exception {
        InetSocketAddress logic = platform.cluster.logic().address();
        InetSocketAddress dispatcher = platform.cluster.dispatcher().address();

        // Auth: a good one (its token is a secret from now on), a bad signature, a tampered token.
        long ts = System.currentTimeMillis();
        String authBody = "{\"appId\":\"" + APP + "\",\"appKey\":\"" + APP_KEY + "\",\"timestamp\":" + ts + ",\"sign\":\"%s\"}";
        HttpResponse<String> auth = post(logic, "/v1/auth", null,
                authBody.formatted(AppAuthenticator.sign(APP, APP_KEY, ts, appSecret())));
        assertEquals(200, auth.statusCode(), auth.body());
        String authToken = PushApiClient.JSON.readTree(auth.body()).get("authToken").asText();
        issuedSecrets.add(authToken);
        assertEquals(401, post(logic, "/v1/auth", null, authBody.formatted("0".repeat(64))).statusCode());
        String tampered = authToken.substring(0, authToken.length() - 2) + (authToken.endsWith("AA") ? "BB" : "AA");
        issuedSecrets.add(tampered);
        assertEquals(401, post(logic, "/v1/push/single", tampered,
                "{\"regId\":\"leak-dev\",\"data\":{\"k\":1}}").statusCode());

        // Register (the device secret is a secret), a signed dispatch (so is the connect token), then a device
        // connects through the SDK, which registers itself.
        HttpResponse<String> registered = post(dispatcher, "/v1/register", null,
                "{\"appId\":\"" + APP + "\",\"clientKey\":\"" + PlatformFixture.clientKey(APP) + "\"}");
        assertEquals(200, registered.statusCode(), registered.body());
        JsonNode probe = PushApiClient.JSON.readTree(registered.body());
        String probeRegId = probe.get("regId").asText();
        String probeSecret = probe.get("deviceSecret").asText();
        issuedSecrets.add(probeSecret);
        long dispatchTs = System.currentTimeMillis();
        String dispatch = get(dispatcher, "/v1/dispatch?appId=" + APP + "&regId=" + probeRegId + "&ts=" + dispatchTs
                + "&sign=" + DispatchSignature.sign(probeSecret, APP, probeRegId, dispatchTs));
        JsonNode dispatched = PushApiClient.JSON.readTree(dispatch);
        String connectToken = dispatched.get("token").asText();
        assertTrue(connectToken.length() > 20, dispatch);
        issuedSecrets.add(connectToken);
        TernClient device = devices.start("leak-dev");
        await().atMost(Duration.ofSeconds(15)).until(() -> device.state() == TernClient.State.CONNECTED);
        String deviceRegId = devices.regId("leak-dev");

        // A forged connect token (the real one with another signature) presented to a broker by the SDK.
        String forged = connectToken.substring(0, connectToken.lastIndexOf('.') + 1)
                + Base64.getUrlEncoder().withoutPadding().encodeToString("forged-signature-32-bytes-long!!".getBytes(StandardCharsets.UTF_8));
        issuedSecrets.add(forged);
        double refusedBefore = authFailures();
        forgingDispatcher = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        // It registers the SDK as the probe device, then hands it the forged token.
        forgingDispatcher.createContext("/", exchange -> {
            try (exchange) {
                byte[] b = (exchange.getRequestURI().getPath().equals("/v1/register")
                        ? probe.toString()
                        : ((com.fasterxml.jackson.databind.node.ObjectNode) dispatched.deepCopy()).put("token", forged).put("expiresAt", System.currentTimeMillis() + 600_000)
                                .toString()).getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, b.length);
                exchange.getResponseBody().write(b);
            }
        });
        forgingDispatcher.start();
        try (Devices forger = new Devices(forgingDispatcher.getAddress(), APP, PlatformFixture.clientKey(APP), null)) {
            forger.start("leak-probe");
            await().atMost(Duration.ofSeconds(15)).until(() -> authFailures() > refusedBefore);
        }

        // A push with a receipt callback, delivered and acknowledged; one to an unknown device.
        String callback = "http://127.0.0.1:" + appServer.getAddress().getPort() + "/receipts";
        HttpResponse<String> push = post(logic, "/v1/push/single", authToken, "{\"regId\":\"" + deviceRegId + "\",\"data\":{\"k\":1},"
                + "\"callback\":{\"url\":\"" + callback + "\",\"param\":\"p\"}}");
        assertEquals(200, push.statusCode(), push.body());
        String msgId = PushApiClient.JSON.readTree(push.body()).get("msgId").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> receipts.stream().anyMatch(r -> r.get("id").asText().equals(msgId)));
        assertEquals(404, post(logic, "/v1/push/single", authToken, "{\"regId\":\"nobody-here\",\"data\":{\"k\":1}}").statusCode());

        // Every role's /metrics and /health.
        List<String> scraped = new ArrayList<>();
        for (InetSocketAddress role : roles()) {
            scraped.add(get(role, "/metrics"));
            scraped.add(get(role, "/health"));
        }
        assertTrue(scraped.stream().anyMatch(m -> m.contains("tern_")), "the scrape returned metrics");

        String logText = logs.text();
        assertTrue(logText.contains("starting with"), "the roles' start-up lines were captured");
        List<String> leaks = new ArrayList<>();
        forms().forEach((what, value) -> {
            for (String line : logText.split("\n")) {
                if (line.contains(value)) {
                    leaks.add(what + " in log line: " + line);
                }
            }
            for (String page : scraped) {
                if (page.contains(value)) {
                    leaks.add(what + " in /metrics or /health");
                }
            }
        });
        assertEquals(List.of(), leaks);
    }

    private static List<InetSocketAddress> roles() {
        List<InetSocketAddress> out = new ArrayList<>();
        out.add(platform.cluster.logic().address());
        out.add(platform.cluster.dispatcher().address());
        platform.cluster.brokers().forEach(b -> out.add(b.adminAddress()));
        return out;
    }

    private static double authFailures() {
        return platform.cluster.brokers().stream().mapToDouble(b -> b.observability().registry()
                .find("tern.broker.auth.failures").counters().stream().mapToDouble(c -> c.count()).sum()).sum();
    }

    /** Every secret value, and its base64, base64url and hex forms; tokens also by their signature part. */
    private static Map<String, String> forms() {
        Map<String, String> values = new LinkedHashMap<>();
        CONFIGURED_SECRETS.forEach((key, v) -> values.put(key, v));
        values.put("Redis password", REDIS_PASSWORD);
        for (int i = 0; i < issuedSecrets.size(); i++) {
            String t = issuedSecrets.get(i);
            values.put("issued token " + i, t);
            int dot = t.lastIndexOf('.');
            if (dot > 0 && t.length() - dot > 16) {
                values.put("signature of issued token " + i, t.substring(dot + 1));
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((what, v) -> {
            byte[] b = v.getBytes(StandardCharsets.UTF_8);
            out.put(what, v);
            out.put(what + " (base64)", Base64.getEncoder().withoutPadding().encodeToString(b));
            out.put(what + " (base64url)", Base64.getUrlEncoder().withoutPadding().encodeToString(b));
            out.put(what + " (hex)", HexFormat.of().formatHex(b));
        });
        return out;
    }

    /**
     * Tees System.out and System.err (slf4j-simple looks System.err up at every write, so every role in this JVM
     * logs through it) into memory, up to 64 MiB.
     */
    static final class LogCapture {
        private static final int MAX_BYTES = 64 << 20;
        private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        private PrintStream originalOut;
        private PrintStream originalErr;

        void start() {
            originalOut = System.out;
            originalErr = System.err;
            System.setOut(new PrintStream(tee(originalOut), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(tee(originalErr), true, StandardCharsets.UTF_8));
        }

        void stop() {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }

        String text() {
            synchronized (captured) {
                return captured.toString(StandardCharsets.UTF_8);
            }
        }

        private OutputStream tee(PrintStream original) {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    original.write(b, off, len);
                    synchronized (captured) {
                        if (captured.size() + len <= MAX_BYTES) {
                            captured.write(b, off, len);
                        }
                    }
                }

                @Override
                public void flush() {
                    original.flush();
                }
            };
        }
    }
}
