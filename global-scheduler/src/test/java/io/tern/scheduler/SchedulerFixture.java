package io.tern.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.runtime.http.HttpServer;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.ConnectStats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/** Test helpers: the admin API over real HTTP, and broker reports written to the real registry. */
public final class SchedulerFixture {
    public static final String TOKEN = "it-sre-token-0123456789abcdef";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private SchedulerFixture() {
    }

    public static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A request to the scheduler at {@code port}; {@code token} null sends no Authorization header. */
    public static HttpResponse<String> call(int port, String method, String path, String body, String token,
                                            String ifMatch) {
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
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
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

    public static HttpResponse<String> get(int port, String path) {
        return call(port, "GET", path, null, TOKEN, null);
    }

    public static HttpResponse<String> post(int port, String path, String body) {
        return call(port, "POST", path, body, TOKEN, null);
    }

    public static JsonNode json(HttpResponse<String> r) {
        try {
            return HttpServer.JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The region's row in GET /v1/regions, or null. */
    public static JsonNode region(int port, String name) {
        for (JsonNode r : json(get(port, "/v1/regions")).get("regions")) {
            if (r.get("name").asText().equals(name)) {
                return r;
            }
        }
        return null;
    }

    /** Writes a broker's report as a broker does (its heartbeat), with a TTL long enough for a test. */
    public static void report(BrokerRegistry registry, String id, String region, int connections,
                              Map<String, Integer> homes, ConnectStats connects) {
        long now = System.currentTimeMillis();
        registry.heartbeat(new BrokerInfo(id, region, "127.0.0.1:9", "127.0.0.1:9", "127.0.0.1:9", connections, now,
                homes, connects, null), Duration.ofMinutes(5), now).join();
    }
}
