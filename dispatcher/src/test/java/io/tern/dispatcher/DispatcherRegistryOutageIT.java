package io.tern.dispatcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.RedisServer;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redis goes away under a running dispatcher: it switches to outage mode and keeps registering devices and answering
 * dispatches from its last snapshot; /health stays UP showing {@code storage: outage} (a real SDK device connecting
 * through it in an outage: ops {@code EdgeOutageIT}); when Redis is back the mode switches back by itself. Uses a
 * Redis of its own because it stops it.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DispatcherRegistryOutageIT {
    private static final Duration REFRESH = Duration.ofMillis(200);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static HttpResponse<String> get(Dispatcher d, String pathAndQuery) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + d.address().getPort() + pathAndQuery);
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void inARedisOutageItRegistersAndDispatchesFromTheLastSnapshotAndStaysHealthyShowingTheMode() throws Exception {
        try (RedisServer redisServer = RedisServer.start(RedisServer.Options.defaults());
             RedisStore redis = RedisStore.connect(redisServer.uri(), Duration.ofSeconds(1))) {
            BrokerRegistry registry = new BrokerRegistry(redis);
            BrokerInfo broker = new BrokerInfo("outage-b1", "local", "127.0.0.1:27000", null, "127.0.0.1:27100", 0,
                    System.currentTimeMillis());
            registry.heartbeat(broker, Duration.ofMinutes(5), System.currentTimeMillis()).join();
            DispatcherConfig config = DispatcherConfig.from(Settings.of(Map.of(
                    "dispatcher.port", "0",
                    "dispatcher.redis-uri", redisServer.uri(),
                    "dispatcher.redis-timeout", "300ms",
                    "dispatcher.dev-mode", "true",
                    "dispatcher.client-keys", "app1=app1-client-key",
                    "dispatcher.registry-refresh", REFRESH.toMillis() + "ms",
                    "dispatcher.redis-outage-after", "1s")));

            try (Dispatcher dispatcher = Dispatcher.start(config)) {
                RegisteredDevice device = RegisteredDevice.register(dispatcher, "app1", "app1-client-key");
                // The first read happens during start: no wait before the first answer.
                HttpResponse<String> first = get(dispatcher, "/v1/dispatch?" + device.query());
                assertEquals(200, first.statusCode(), first.body());
                assertEquals(200, get(dispatcher, "/health").statusCode());

                redisServer.stop();

                // Health never turns DOWN on the way: the snapshot may age by the outage threshold first.
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
                    HttpResponse<String> health = get(dispatcher, "/health");
                    assertEquals(200, health.statusCode(), health.body());
                    assertEquals("outage", HttpServer.JSON.readTree(health.body()).get("storage").asText());
                });
                HttpResponse<String> health = get(dispatcher, "/health");
                assertEquals("UP", HttpServer.JSON.readTree(health.body()).get("checks").get("registry").asText());
                // Registration and dispatch need no store: both go on while Redis is down.
                RegisteredDevice later = RegisteredDevice.register(dispatcher, "app1", "app1-client-key");
                HttpResponse<String> during = get(dispatcher, "/v1/dispatch?" + later.query());
                assertEquals(200, during.statusCode(), during.body());
                JsonNode body = HttpServer.JSON.readTree(during.body());
                assertEquals(broker.tcpAddress(), body.get("brokers").get(0).asText());
                String metrics = get(dispatcher, "/metrics").body();
                assertTrue(metrics.lines().anyMatch(l -> l.startsWith("dispatcher_registry_refresh_failures_total")
                        && !l.trim().endsWith(" 0.0")), metrics);
                assertTrue(metrics.lines().anyMatch(l -> l.startsWith("tern_storage_mode{")
                        && l.trim().endsWith(" 1.0")), metrics);

                redisServer.restart();
                // Lettuce reconnects with backoff; the broker heartbeats again as a real one would.
                await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().untilAsserted(() -> {
                    registry.heartbeat(broker, Duration.ofMinutes(5), System.currentTimeMillis())
                            .get(1, TimeUnit.SECONDS);
                    HttpResponse<String> back = get(dispatcher, "/health");
                    assertEquals(200, back.statusCode());
                    assertEquals("normal", HttpServer.JSON.readTree(back.body()).get("storage").asText());
                    // Health returns with the first good read, which may predate the re-heartbeat.
                    assertEquals(200, get(dispatcher, "/v1/dispatch?" + device.query()).statusCode());
                });
            }
        }
    }
}
