package io.tern.ratecontrol.scale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.devstack.SharedInfra;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.redis.RedisStore;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dev mode end to end: a real rate controller with {@code ratecontrol.scale.mode=local} scales child JVMs on the
 * lag of the bypass group on a real {@code tern.buffer}. The stand-in main plays the bypass consumer (see
 * {@link LocalProcessesIT}); the lag is moved by producing records and committing the group's offsets by hand.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LocalScalingIT {
    private static final int DB = 15;

    /** Live child JVMs of this test JVM (the only ones here are the controller's consumers). */
    private static long children() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .count();
    }

    @Test
    void replicasFollowTheBufferLagAndStopWithTheController() throws Exception {
        String bootstrap = SharedInfra.kafka().bootstrapServers();
        SharedInfra.kafka().createTopics(Topics.BUFFER);
        String redisUri = SharedInfra.redis().uri() + "/" + DB;
        try (RedisStore redis = RedisStore.connect(redisUri, Duration.ofSeconds(2))) {
            redis.async().flushdb().toCompletableFuture().join();
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            BufferGroup.commitToEnd(admin); // whatever an earlier test left: lag 0
            RateController controller = RateController.start(RateControllerConfig.from(Settings.of(Map.ofEntries(
                    Map.entry("ratecontrol.port", "0"),
                    Map.entry("ratecontrol.redis-uri", redisUri),
                    Map.entry("ratecontrol.dev-mode", "true"),
                    Map.entry("ratecontrol.scale.mode", "local"),
                    Map.entry("ratecontrol.scale.kafka-bootstrap", bootstrap),
                    Map.entry("ratecontrol.scale.interval", "200ms"),
                    Map.entry("ratecontrol.scale.lag-per-replica", "10"),
                    Map.entry("ratecontrol.scale.min-replicas", "1"),
                    Map.entry("ratecontrol.scale.local-max", "3"),
                    Map.entry("ratecontrol.scale.scale-down-after", "2s"),
                    Map.entry("ratecontrol.scale.local-main-class", StandInConsumerMain.class.getName())))));
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> children() == 1);

                BufferGroup.produce(bootstrap, 25);
                // ceil(25 / 10) = 3 consumers.
                await().atMost(Duration.ofSeconds(60)).until(() -> children() == 3);
                // The backlog reading catches up with all 25; the decision is the tick that scaled up, which may have
                // read the lag mid-production (any lag of 21..25 means 3 replicas).
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    JsonNode now = get(controller, "/v1/scale");
                    return now.path("replicas").asInt() == 3 && now.path("lag").asLong() == 25;
                });
                JsonNode shown = get(controller, "/v1/scale");
                assertEquals("local", shown.path("mode").asText());
                assertTrue(shown.path("leading").asBoolean(), shown.toString());
                assertEquals(3, shown.path("targetReplicas").asInt(), shown.toString());
                assertEquals(25, shown.path("lag").asLong(), shown.toString());
                Matcher why = Pattern.compile("lag (\\d+) / 10 per replica -> 3")
                        .matcher(shown.path("decision").path("why").asText());
                assertTrue(why.find() && Integer.parseInt(why.group(1)) > 20 && Integer.parseInt(why.group(1)) <= 25,
                        shown.toString());
                // The gauges follow at the scaler's next tick.
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    String metrics = text(controller, "/metrics");
                    assertTrue(metrics.lines().anyMatch(l -> l.startsWith("tern_scale_target_replicas")
                            && l.endsWith(" 3.0")), metrics);
                    assertTrue(metrics.lines().anyMatch(l -> l.startsWith("tern_scale_replicas") && l.endsWith(" 3.0")),
                            metrics);
                    assertTrue(metrics.lines().anyMatch(l -> l.startsWith("tern_scale_lag") && l.endsWith(" 25.0")),
                            metrics);
                    assertTrue(metrics.lines().anyMatch(l -> l.startsWith("tern_scale_decisions_total")
                            && l.contains("direction=\"up\"") && !l.endsWith(" 0.0")), metrics);
                });

                BufferGroup.commitToEnd(admin);
                await().atMost(Duration.ofSeconds(60)).until(() -> children() == 1);
            } finally {
                controller.close();
            }
            assertEquals(0, children(), "closing the controller stops its consumers");
        }
    }

    private static String text(RateController controller, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.address().getPort() + path))
                .header("Authorization", "Bearer " + controller.config().sreToken()).timeout(Duration.ofSeconds(10)).build();
        return HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString()).body();
    }

    private static JsonNode get(RateController controller, String path) throws Exception {
        return new ObjectMapper().readTree(text(controller, path));
    }
}
