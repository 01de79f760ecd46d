package io.tern.scheduler.leader;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.Ports;
import io.tern.devstack.SharedInfra;
import io.tern.devstack.process.JavaProcess;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.GlobalScheduler;
import io.tern.scheduler.SchedulerMain;
import io.tern.scheduler.config.SchedulerConfig;
import io.tern.store.redis.RedisStore;
import io.tern.store.Keys;
import io.tern.store.lease.LeaderLease;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.ConnectStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tern.scheduler.SchedulerFixture.TOKEN;
import static io.tern.scheduler.SchedulerFixture.call;
import static io.tern.scheduler.SchedulerFixture.get;
import static io.tern.scheduler.SchedulerFixture.json;
import static io.tern.scheduler.SchedulerFixture.post;
import static io.tern.scheduler.SchedulerFixture.region;
import static io.tern.scheduler.SchedulerFixture.report;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two scheduler instances on one Redis: one leads; the leader, a separate JVM, is killed with SIGKILL
 * in the middle of a move (no shutdown hook: its lease is not released and must expire), and the other
 * takes the lease over and finishes the move from the stored policy. Broker reports are written to the
 * real registry as brokers write them, draining the moving region over time.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SchedulerLeaderIT {
    private static final Logger log = LoggerFactory.getLogger(SchedulerLeaderIT.class);
    private static final int DB = 7;
    private static final Duration LEASE_TTL = Duration.ofSeconds(3);
    private static String uri;
    private static RedisStore redis;
    private static BrokerRegistry registry;

    @BeforeAll
    static void connect() {
        uri = SharedInfra.redis().uri() + "/" + DB;
        redis = RedisStore.connect(uri, Duration.ofSeconds(2));
        redis.async().flushdb().toCompletableFuture().join();
        registry = new BrokerRegistry(redis);
    }

    @AfterAll
    static void close() {
        if (redis != null) {
            redis.close();
        }
    }

    private static Map<String, String> settings(String id, int port) {
        return Map.of(
                "scheduler.id", id,
                "scheduler.port", Integer.toString(port),
                "scheduler.redis-uri", uri,
                "scheduler.sre-token", TOKEN,
                "scheduler.dev-mode", "true",
                "scheduler.regions", "north,south",
                "scheduler.lease-ttl", LEASE_TTL.toMillis() + "ms",
                "scheduler.tick", "100ms",
                "scheduler.registry-refresh", "100ms");
    }

    private static String role(int port) {
        return json(call(port, "GET", "/health", null, null, null)).path("role").asText();
    }

    private static JsonNode move(int port) {
        return json(get(port, "/v1/regions/north/move"));
    }

    @Test
    void whenTheLeaderIsKilledMidMoveTheOtherInstanceTakesOverAndFinishesIt() throws Exception {
        report(registry, "b-north", "north", 300, Map.of("north", 300), ConnectStats.NONE);
        report(registry, "b-south", "south", 0, Map.of(), new ConnectStats(0, 0, 0, 5, 1000));

        int portA = Ports.free();
        Map<String, String> env = new java.util.HashMap<>();
        settings("s-a", portA).forEach((k, v) -> env.put(Settings.keyToEnv(k), v));
        Path logFile = Path.of("target", "scheduler-leader-it", "s-a.log");
        JavaProcess a = JavaProcess.start(new JavaProcess.Spec("scheduler s-a", List.of("-Xmx128m"),
                SchedulerMain.class.getName(), List.of(), env, logFile, Duration.ofMinutes(5)));
        try (a) {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> role(portA).equals("leader"));

            try (GlobalScheduler b = GlobalScheduler.start(SchedulerConfig.from(Settings.of(settings("s-b", 0))))) {
                int portB = b.address().getPort();
                assertEquals("follower", role(portB));
                assertFalse(b.leader());
                assertTrue(new LeaderLease(redis, Keys.schedulerLeader()).holder().join().startsWith("s-a|"));

                // The follower takes the SRE's call: writes are compare-and-set, not the leader's alone.
                var started = post(portB, "/v1/regions/north/failover",
                        "{\"to\":\"south\",\"ratePerSecond\":100,\"reason\":\"leader drill\"}");
                assertEquals(202, started.statusCode(), started.body());
                await().atMost(Duration.ofSeconds(30)).until(() -> move(portB).path("coveredAtStart").asLong() == 300);

                // A fifth of the devices leave: the leader (s-a) takes the move through stages 1 (5 %) and 2 (25 %).
                report(registry, "b-north", "north", 240, Map.of("north", 240), ConnectStats.NONE);
                await().atMost(Duration.ofSeconds(30)).until(() -> move(portB).path("stage").asInt() == 2);

                long killedAt = System.nanoTime();
                a.kill();
                assertFalse(a.alive());
                await().atMost(Duration.ofSeconds(30)).until(b::leader);
                long takeoverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
                log.info("s-b took the lease {} ms after s-a was killed (lease TTL {} ms)", takeoverMillis,
                        LEASE_TTL.toMillis());
                assertEquals("leader", role(portB));
                assertTrue(new LeaderLease(redis, Keys.schedulerLeader()).holder().join().startsWith("s-b|"));

                // The rest of the devices leave; the new leader resumes from the stored move and finishes it.
                report(registry, "b-north", "north", 40, Map.of("north", 40), ConnectStats.NONE);
                await().atMost(Duration.ofSeconds(30)).until(() -> move(portB).path("stage").asInt() == 3);
                assertTrue(move(portB).path("moving").asBoolean(), "the last stage ends only when none is left");
                report(registry, "b-north", "north", 0, Map.of(), ConnectStats.NONE);
                await().atMost(Duration.ofSeconds(30)).until(() -> region(portB, "north").path("state").asText()
                        .equals("failed-over"));

                JsonNode done = move(portB);
                assertFalse(done.get("moving").asBoolean());
                assertEquals(300, done.get("coveredAtStart").asLong(), "the count the first leader recorded");
                assertEquals(300, done.get("moved").asLong());
                assertEquals("south", region(portB, "north").get("servedBy").asText());

                List<String> steps = new ArrayList<>();
                json(get(portB, "/v1/regions/history?limit=100")).get("changes").forEach(c -> {
                    if (c.get("region").asText().equals("north") && !c.get("action").asText().equals("add")) {
                        steps.add(0, c.get("by").asText() + " " + c.get("action").asText());
                    }
                });
                log.info("north's history: {}", steps);
                assertEquals("sre failover", steps.get(0));
                assertEquals("scheduler:s-a start", steps.get(1));
                assertTrue(steps.contains("scheduler:s-a stage"), steps.toString());
                assertTrue(steps.contains("scheduler:s-b stage"), steps.toString());
                assertEquals("scheduler:s-b done", steps.get(steps.size() - 1));
            }
        }
    }
}
