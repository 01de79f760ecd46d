package io.tern.ratecontrol;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.runtime.http.HttpServer;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.ConnectStats;
import io.tern.store.registry.DeliveryStats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Test helpers: the admin API over real HTTP, and broker heartbeats written to the real registry. */
public final class ControllerFixture {
    public static final String TOKEN = "it-sre-token-0123456789abcdef";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ControllerFixture() {
    }

    /** Settings of a controller on {@code redisUri}: fast tick, short dwell, the test token, any free port. */
    public static Map<String, String> settings(String id, String redisUri, Map<String, String> more) {
        Map<String, String> m = new HashMap<>();
        m.put("ratecontrol.id", id);
        m.put("ratecontrol.port", "0");
        m.put("ratecontrol.redis-uri", redisUri);
        m.put("ratecontrol.sre-token", TOKEN);
        m.put("ratecontrol.dev-mode", "true");
        m.put("ratecontrol.tick", "100ms");
        m.putAll(more);
        return m;
    }

    /** A request to the controller at {@code port}; {@code token} null sends no Authorization header. */
    public static HttpResponse<String> call(int port, String method, String path, String body, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static JsonNode throttle(int port) {
        return json(call(port, "GET", "/v1/throttle", null, TOKEN));
    }

    public static JsonNode json(HttpResponse<String> r) {
        try {
            return HttpServer.JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a broker's heartbeat as a broker does, with its deliveries against its capacity. */
    public static void report(BrokerRegistry registry, String id, String region, int capacity, double perSecond) {
        long now = System.currentTimeMillis();
        registry.heartbeat(new BrokerInfo(id, region, "127.0.0.1:9", "ws://127.0.0.1:9/ws", "127.0.0.1:9", 0, now,
                Map.of(), ConnectStats.NONE, new DeliveryStats(0, perSecond, capacity)), Duration.ofMinutes(5), now)
                .join();
    }
}
