package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.bypass.BypassConsumer;
import io.tern.bypass.config.BypassConfig;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.scheduler.GlobalScheduler;
import io.tern.scheduler.config.SchedulerConfig;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The control roles through a Redis outage (redis-server with AOF, SIGKILLed): the global scheduler, the rate
 * controller and a bypass consumer keep running and answering /health, which says {@code storage: outage} and is
 * steadily 503 for the scheduler and the controller (neither can lead without Redis) and for the bypass consumer
 * (it cannot record what it drains); when Redis is back each switches back by itself, the scheduler and the
 * controller lead again.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ControlRolesOutageIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dataDir;

    @Test
    void throughARedisOutageTheyKeepRunningShowTheModeWithoutFlappingAndComeBackByThemselves() throws Exception {
        SharedInfra.kafka().createTopics(Topics.BUFFER, Topics.BUFFER_DEAD_LETTER, Topics.JOBS, Topics.JOBS_DEAD_LETTER);
        try (RedisServer redis = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true)
                .withDataDir(dataDir));
             GlobalScheduler scheduler = GlobalScheduler.start(SchedulerConfig.from(Settings.of(Map.of(
                     "scheduler.id", "s-outage",
                     "scheduler.port", "0",
                     "scheduler.redis-uri", redis.uri(),
                     "scheduler.redis-timeout", "500ms",
                     "scheduler.sre-token", "control-roles-outage-token-0123456789",
                     "scheduler.tls.plain", "true"))));
             RateController controller = RateController.start(RateControllerConfig.from(Settings.of(Map.of(
                     "ratecontrol.id", "rc-outage",
                     "ratecontrol.port", "0",
                     "ratecontrol.redis-uri", redis.uri(),
                     "ratecontrol.redis-timeout", "500ms",
                     "ratecontrol.sre-token", "control-roles-outage-token-0123456789",
                     "ratecontrol.tls.plain", "true"))));
             BypassConsumer bypass = BypassConsumer.start(BypassConfig.from(Settings.of(Map.of(
                     "bypass.id", "by-outage",
                     "bypass.dev-mode", "true",
                     "bypass.port", "0",
                     "bypass.redis-uri", redis.uri(),
                     "bypass.redis-timeout", "500ms",
                     "bypass.kafka-bootstrap", SharedInfra.kafka().bootstrapServers()))))) {
            List<InetSocketAddress> roles = List.of(scheduler.address(), controller.address(), bypass.address());
            await().atMost(AWAIT).untilAsserted(() -> {
                for (InetSocketAddress at : roles) {
                    assertHealth(at, 200, "normal");
                }
                assertEquals(true, scheduler.leader());
                assertEquals(true, controller.leader());
            });

            redis.kill();
            await().atMost(AWAIT).untilAsserted(() -> {
                for (InetSocketAddress at : roles) {
                    assertHealth(at, 503, "outage");
                }
            });
            // Steady, not flapping: every look over the next seconds says the same.
            await().during(Duration.ofSeconds(3)).atMost(AWAIT).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> {
                        for (InetSocketAddress at : roles) {
                            assertHealth(at, 503, "outage");
                        }
                    });

            redis.restart();
            await().atMost(AWAIT).untilAsserted(() -> {
                for (InetSocketAddress at : roles) {
                    assertHealth(at, 200, "normal");
                }
                assertEquals(true, scheduler.leader());
                assertEquals(true, controller.leader());
            });
        }
    }

    private static void assertHealth(InetSocketAddress at, int status, String storage) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort()
                + "/health")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = HttpServer.JSON.readTree(r.body());
        assertEquals(storage, body.get("storage").asText(), r.body());
        assertEquals(status, r.statusCode(), r.body());
    }
}
