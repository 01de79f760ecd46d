package io.tern.scheduler.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.Ports;
import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.GlobalScheduler;
import io.tern.scheduler.config.SchedulerConfig;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.ConnectStats;
import io.tern.store.registry.DeliveryStats;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tern.scheduler.SchedulerFixture.TOKEN;
import static io.tern.scheduler.SchedulerFixture.call;
import static io.tern.scheduler.SchedulerFixture.get;
import static io.tern.scheduler.SchedulerFixture.json;
import static io.tern.scheduler.SchedulerFixture.unique;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's views on a real scheduler and Redis: brokers with their deliveries, the recent tasks with their
 * counters, the throttle asked of a controller that is not there, and the console's files, which need no token
 * while every view does. (The throttle read through a live controller is ConsoleBrowserIT's, on the local platform.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OverviewApiIT {
    private static final int DB = 8;
    private static RedisStore redis;
    private static GlobalScheduler scheduler;
    private static int port;

    @BeforeAll
    static void start() {
        String uri = SharedInfra.redis().uri() + "/" + DB;
        redis = RedisStore.connect(uri, Duration.ofSeconds(2));
        redis.async().flushdb().toCompletableFuture().join();
        scheduler = GlobalScheduler.start(SchedulerConfig.from(Settings.of(Map.of(
                "scheduler.port", "0",
                "scheduler.redis-uri", uri,
                "scheduler.sre-token", TOKEN,
                "scheduler.dev-mode", "true",
                "scheduler.regions", "local",
                "scheduler.registry-refresh", "100ms",
                "scheduler.recent-tasks", "50",
                // Nothing listens there: the controller is down.
                "scheduler.controller-url", "http://127.0.0.1:" + Ports.free()))));
        port = scheduler.address().getPort();
    }

    @AfterAll
    static void stop() {
        if (scheduler != null) {
            scheduler.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void everyViewNeedsTheSreTokenButTheConsoleFilesDoNot() {
        for (String path : new String[]{"/v1/brokers", "/v1/tasks", "/v1/throttle", "/v1/scale"}) {
            HttpResponse<String> r = call(port, "GET", path, null, "wrong-token-0123456789", null);
            assertEquals(401, r.statusCode(), path + ": " + r.body());
        }
        HttpResponse<String> page = call(port, "GET", "/console", null, null, null);
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page.headers().toString());
        assertTrue(page.body().contains("<script src=\"/console/console.js\""), page.body());
        assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("frame-ancestors 'none'"));
        HttpResponse<String> js = call(port, "GET", "/console/console.js", null, null, null);
        assertEquals(200, js.statusCode());
        assertTrue(js.headers().firstValue("Content-Type").orElse("").startsWith("text/javascript"));
        assertEquals(404, call(port, "GET", "/console/secrets.txt", null, null, null).statusCode());
    }

    @Test
    void brokersAreListedWithTheirDeliveriesAndRegionsSumThem() {
        String region = unique("r");
        BrokerRegistry registry = new BrokerRegistry(redis);
        long now = System.currentTimeMillis();
        for (String[] b : new String[][]{{"b-a", "12.5"}, {"b-b", "30"}}) {
            registry.heartbeat(new BrokerInfo(b[0] + region, region, "127.0.0.1:9", "127.0.0.1:9", "127.0.0.1:9", 4, now,
                    Map.of(region, 4), ConnectStats.NONE, new DeliveryStats(1000, Double.parseDouble(b[1]), 5000)),
                    Duration.ofMinutes(5), now).join();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> json(get(port, "/v1/brokers")).get("brokers").size() == 2);
        JsonNode first = json(get(port, "/v1/brokers")).get("brokers").get(0);
        assertEquals("b-a" + region, first.get("id").asText());
        assertEquals(region, first.get("region").asText());
        assertEquals(4, first.get("connections").asInt());
        assertEquals(12.5, first.get("deliveriesPerSecond").asDouble());
        assertEquals(1000, first.get("delivered").asLong());
        assertEquals(5000, first.get("capacityPerSecond").asInt());

        JsonNode regions = json(get(port, "/v1/regions")).get("regions");
        JsonNode row = null;
        for (JsonNode r : regions) {
            if (r.get("name").asText().equals(region)) {
                row = r;
            }
        }
        assertEquals(42.5, row.get("deliveriesPerSecond").asDouble(), regions.toString());
    }

    @Test
    void recentTasksComeNewestFirstWithTheirCounters() {
        TaskRepository tasks = new TaskRepository(redis, new QueuePolicy(10, Duration.ofDays(1), Duration.ofDays(1),
                Duration.ofHours(1)));
        long now = System.currentTimeMillis();
        tasks.create(new TaskBody(101, "demo", PayloadKind.NOTIFICATION, "{}", now, now + 60_000, null, null, 0),
                TaskState.CREATED).join();
        tasks.create(new TaskBody(102, "demo", PayloadKind.DATA, "{}", now + 1, now + 60_000, null, null, 0),
                TaskState.SENDING).join();
        tasks.increment(102, Map.of(TaskCounter.TARGETED, 5L, TaskCounter.DELIVERED, 3L)).join();

        JsonNode listed = json(get(port, "/v1/tasks?limit=2")).get("tasks");
        assertEquals(2, listed.size(), listed.toString());
        assertEquals("102", listed.get(0).get("taskId").asText());
        assertEquals("sending", listed.get(0).get("state").asText());
        assertEquals("data", listed.get(0).get("kind").asText());
        assertEquals(5, listed.get(0).get("targeted").asLong());
        assertEquals(3, listed.get(0).get("delivered").asLong());
        assertEquals(0, listed.get(0).get("sent").asLong());
        assertEquals("101", listed.get(1).get("taskId").asText());

        HttpResponse<String> bad = get(port, "/v1/tasks?limit=0");
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals("limit", json(bad).get("field").asText());
        // The bound is scheduler.recent-tasks (50 here), not a constant.
        assertEquals(200, get(port, "/v1/tasks?limit=50").statusCode());
        HttpResponse<String> beyond = get(port, "/v1/tasks?limit=51");
        assertEquals(400, beyond.statusCode(), beyond.body());
        assertTrue(json(beyond).get("message").asText().contains("between 1 and 50 (scheduler.recent-tasks)"), beyond.body());
    }

    @Test
    void theThrottleOfAControllerThatDoesNotAnswerIsABadGateway() {
        HttpResponse<String> r = get(port, "/v1/throttle");
        assertEquals(502, r.statusCode(), r.body());
        assertEquals("controller_unavailable", json(r).get("code").asText());
    }
}
