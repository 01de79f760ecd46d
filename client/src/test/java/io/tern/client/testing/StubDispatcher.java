package io.tern.client.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tern.client.dispatch.DeviceCredentials;
import io.tern.protocol.token.DeviceSecrets;
import io.tern.protocol.token.DispatchSignature;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * Stand-in for the dispatcher in the SDK's own tests: {@code POST /v1/register} issues
 * {@code stub-device-N} with the secret the real rule derives ({@link DeviceSecrets}, a test key) to client
 * key {@link #CLIENT_KEY}; {@code GET /v1/dispatch} checks the request's signature as the real dispatcher
 * does (401 without it) and answers with the configured broker lists and a token {@code token-N} for the
 * N-th request, or with an error.
 */
public final class StubDispatcher implements AutoCloseable {
    public static final String CLIENT_KEY = "stub-client-key";
    private static final DeviceSecrets SECRETS = new DeviceSecrets("stub-dispatcher-device-key".getBytes(StandardCharsets.UTF_8));
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final AtomicInteger registrations = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final Queue<URI> requestUris = new ConcurrentLinkedQueue<>();
    private volatile List<String> brokers = List.of();
    private volatile List<String> wsBrokers = List.of();
    /** Given the 1-based request number, an error status for it, or 200 for a normal answer. */
    private volatile IntFunction<Integer> statusFor = n -> 200;

    public StubDispatcher() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/v1/dispatch", this::handle);
        server.createContext("/v1/register", this::register);
        server.start();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public StubDispatcher brokers(String... addresses) {
        this.brokers = List.of(addresses);
        return this;
    }

    public StubDispatcher wsBrokers(String... addresses) {
        this.wsBrokers = List.of(addresses);
        return this;
    }

    public StubDispatcher statusFor(IntFunction<Integer> statusFor) {
        this.statusFor = statusFor;
        return this;
    }

    /** Credentials this stub accepts for {@code regId} of any app, as if the platform had issued them. */
    public static DeviceCredentials credentials(String appId, String regId) {
        return new DeviceCredentials(regId, SECRETS.secretFor(appId, regId));
    }

    /** Registrations answered 200. */
    public int registrations() {
        return registrations.get();
    }

    /** Dispatch requests refused for a missing or wrong signature. */
    public int refused() {
        return refused.get();
    }

    public int requests() {
        return requests.get();
    }

    public Queue<URI> requestUris() {
        return requestUris;
    }

    private void register(HttpExchange ex) throws IOException {
        JsonNode req = JSON.readTree(ex.getRequestBody().readAllBytes());
        String appId = req.path("appId").asText();
        if (!CLIENT_KEY.equals(req.path("clientKey").asText())) {
            answer(ex, 401, "{\"code\":\"unauthorized\",\"message\":\"wrong clientKey\"}");
            return;
        }
        DeviceCredentials issued = credentials(appId, "stub-device-" + registrations.incrementAndGet());
        answer(ex, 200, "{\"regId\":\"" + issued.regId() + "\",\"deviceSecret\":\"" + issued.deviceSecret() + "\"}");
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> out = new HashMap<>();
        String raw = uri.getRawQuery();
        for (String kv : raw == null ? new String[0] : raw.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                out.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private void handle(HttpExchange ex) throws IOException {
        int n = requests.incrementAndGet();
        requestUris.add(ex.getRequestURI());
        Map<String, String> q = query(ex.getRequestURI());
        String appId = q.getOrDefault("appId", "");
        String regId = q.getOrDefault("regId", "");
        long ts;
        try {
            ts = Long.parseLong(q.getOrDefault("ts", ""));
        } catch (NumberFormatException e) {
            ts = Long.MIN_VALUE;
        }
        if (!DispatchSignature.verify(SECRETS.secretFor(appId, regId), appId, regId, ts, q.get("sign"))
                || Math.abs(System.currentTimeMillis() - ts) > 300_000) {
            refused.incrementAndGet();
            answer(ex, 401, "{\"code\":\"unauthorized\",\"message\":\"bad or stale signature\"}");
            return;
        }
        int status = statusFor.apply(n);
        String body;
        if (status == 200) {
            body = "{\"brokers\":" + json(brokers) + ",\"wsBrokers\":" + json(wsBrokers)
                    + ",\"token\":\"token-" + n + "\",\"expiresAt\":" + (System.currentTimeMillis() + 3_600_000)
                    + ",\"region\":\"north\",\"future\":{\"field\":[1,2]}}";
        } else {
            body = "{\"code\":\"UNAVAILABLE\",\"message\":\"try later\"}";
        }
        answer(ex, status, body);
    }

    private static void answer(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String json(List<String> list) {
        return list.stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(",", "[", "]"));
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
