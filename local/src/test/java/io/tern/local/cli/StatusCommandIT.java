package io.tern.local.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.ops.cli.status.StatusCommand;
import io.tern.devstack.Ports;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.GlobalScheduler;
import io.tern.scheduler.config.SchedulerConfig;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.DeliveryStats;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ternctl status} against a real global scheduler and a real rate controller on one real Redis of their own
 * (the region policy and the throttle directive are one key per Redis: a shared Redis would carry them into other
 * test classes). Two brokers are simulated by their registry entries the way a broker writes them every second:
 * north's with 120 connections delivering 100/s of 1,000, south's with 30 delivering 20/s of 500. The controller reads
 * the buffer's lag from the shared real Kafka with autoscaling off, and no bypass consumer runs.
 */
class StatusCommandIT {
    private static final String TOKEN = "status-cli-it-sre-token-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RedisServer redis;
    private static RedisStore store;
    private static GlobalScheduler scheduler;
    private static RateController controller;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.BUFFER);
        redis = RedisServer.start(RedisServer.Options.defaults().withPort(Ports.free()));
        store = RedisStore.connect(redis.uri(), Duration.ofSeconds(2));
        BrokerRegistry registry = new BrokerRegistry(store);
        long now = System.currentTimeMillis();
        registry.heartbeat(new BrokerInfo("b1", "north", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", 120, now,
                Map.of("north", 120), null, new DeliveryStats(10_000, 100, 1_000)), Duration.ofMinutes(5), now).join();
        registry.heartbeat(new BrokerInfo("b2", "south", "127.0.0.1:4", "127.0.0.1:5", "127.0.0.1:6", 30, now,
                Map.of("south", 30), null, new DeliveryStats(2_000, 20, 500)), Duration.ofMinutes(5), now).join();
        controller = RateController.start(RateControllerConfig.from(Settings.of(Map.of(
                "ratecontrol.id", "rc1",
                "ratecontrol.port", "0",
                "ratecontrol.redis-uri", redis.uri(),
                "ratecontrol.sre-token", TOKEN,
                "ratecontrol.tick", "50ms",
                "ratecontrol.scale.kafka-bootstrap", SharedInfra.kafka().bootstrapServers(),
                "ratecontrol.tls.plain", "true"))));
        scheduler = GlobalScheduler.start(SchedulerConfig.from(Settings.of(Map.of(
                "scheduler.id", "s1",
                "scheduler.port", "0",
                "scheduler.redis-uri", redis.uri(),
                "scheduler.sre-token", TOKEN,
                "scheduler.regions", "north,south",
                "scheduler.tick", "50ms",
                "scheduler.registry-refresh", "100ms",
                "scheduler.policy-poll", "100ms",
                "scheduler.tls.plain", "true",
                // The console's throttle and buffer views read this controller.
                "scheduler.controller-url", "http://" + Ports.HOST + ":" + controller.address().getPort()))));
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.leader() && scheduler.policyVersion() >= 1
                && controller.leader());
    }

    @AfterAll
    static void stop() {
        if (controller != null) {
            controller.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
        if (store != null) {
            store.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private record Run(int status, String out, String err) {
    }

    private static Run ternctl(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new StatusCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env).run(List.of(args));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("TERN_SCHEDULER_URL", "http://" + Ports.HOST + ":" + scheduler.address().getPort());
        env.put("TERN_CONTROLLER_URL", "http://" + Ports.HOST + ":" + controller.address().getPort());
        env.put("TERN_SRE_TOKEN", TOKEN);
        return env;
    }

    @Test
    void oneScreenShowsEveryRegionsBrokersConnectionsAndDeliveriesWithTheThrottle() {
        // The controller's load comes from its ticks: wait until it has seen both brokers.
        await().atMost(Duration.ofSeconds(10)).until(() -> ternctl(env()).out().contains("of capacity 1,500"));
        Run r = ternctl(env());
        assertEquals(0, r.status(), r.err());
        String north = r.out().lines().filter(l -> l.startsWith("north")).findFirst().orElseThrow();
        assertTrue(north.matches("north\\s+active\\s+north\\s+1\\s+120\\s+100\\s+1,000"), r.out());
        String total = r.out().lines().filter(l -> l.startsWith("total")).findFirst().orElseThrow();
        assertTrue(total.matches("total\\s+2\\s+150\\s+120\\s+1,500"), r.out());
        assertTrue(r.out().contains("throttle   OPEN: permit"), r.out());
        assertTrue(r.out().contains("buffer     lag"), r.out());
        assertTrue(r.out().contains("rate controller leader rc1"), r.out());
    }

    /** The lag as {@code ternctl status --output json} shows it, -1 while unknown. */
    private static long lag() throws Exception {
        JsonNode lag = JSON.readTree(ternctl(env(), "--output", "json").out()).path("scale").path("lag");
        return lag.isNumber() ? lag.asLong() : -1;
    }

    @Test
    void theBufferLagShowsWithAutoscalingOffInTheCliAndTheConsolesOverview() throws Exception {
        // Records earlier test classes left in the shared buffer count too: the lag must grow by exactly ours.
        await().atMost(Duration.ofSeconds(20)).until(() -> lag() >= 0);
        long before = lag();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            for (int i = 0; i < 9; i++) {
                producer.send(new ProducerRecord<>(Topics.BUFFER, "k" + i, "v")).get(30, TimeUnit.SECONDS);
            }
        }
        long after = before + 9;
        await().atMost(Duration.ofSeconds(20)).until(() -> lag() == after);
        Run r = ternctl(env());
        assertTrue(r.out().contains(String.format(Locale.ROOT, "buffer     lag %,d records over", after)), r.out());
        assertTrue(r.out().contains("(off)"), r.out());
        // The console reads the same answer through the scheduler.
        HttpResponse<String> overview = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://" + Ports.HOST + ":" + scheduler.address().getPort() + "/v1/scale"))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, overview.statusCode(), overview.body());
        assertEquals(after, JSON.readTree(overview.body()).path("lag").asLong(), overview.body());
        assertTrue(JSON.readTree(overview.body()).path("lagError").isNull(), overview.body());
    }

    @Test
    void jsonCarriesEachApisAnswerForScripts() throws Exception {
        Run r = ternctl(env(), "--output", "json");
        assertEquals(0, r.status(), r.err());
        JsonNode all = JSON.readTree(r.out());
        assertEquals(2, all.path("regions").path("regions").size(), r.out());
        assertEquals("north", all.path("regions").path("regions").get(0).path("name").asText());
        assertEquals(120, all.path("regions").path("regions").get(0).path("connections").asLong());
        assertEquals("open", all.path("throttle").path("directive").path("state").asText(), r.out());
        assertTrue(all.path("scale").has("mode"), r.out());
        assertTrue(all.path("errors").isEmpty(), r.out());
    }

    @Test
    void aPartThatDoesNotAnswerIsExitOneAndTheRestStillShows() throws Exception {
        Map<String, String> env = env();
        env.put("TERN_CONTROLLER_URL", "http://" + Ports.HOST + ":" + Ports.free());
        Run text = ternctl(env);
        assertEquals(1, text.status());
        assertTrue(text.out().contains("throttle: UNAVAILABLE: cannot reach the rate controller"), text.out());
        assertTrue(text.out().lines().anyMatch(l -> l.matches("north\\s+active\\s+north\\s+1\\s+120.*")), text.out());

        JsonNode json = JSON.readTree(ternctl(env, "--output", "json").out());
        assertTrue(json.path("throttle").isNull(), json.toString());
        assertTrue(json.path("errors").path("scale").asText().contains("cannot reach"), json.toString());
        assertEquals(2, json.path("regions").path("regions").size());
    }

    @Test
    void aWrongTokenIsRefusedByEveryApiAndABadCommandLineSendsNothing() {
        Map<String, String> env = env();
        env.put("TERN_SRE_TOKEN", "not-the-sre-token-at-all");
        Run r = ternctl(env);
        assertEquals(1, r.status());
        assertTrue(r.out().contains("regions: UNAVAILABLE: the global scheduler refused") && r.out().contains("HTTP 401"), r.out());
        assertEquals(2, ternctl(env(), "regions").status(), "status takes no arguments");
        assertEquals(2, ternctl(env(), "--output", "yaml").status());
        assertEquals(2, ternctl(Map.of(), "--output", "json").status(), "no token");
        assertEquals(0, ternctl(env(), "--help").status());
    }
}
