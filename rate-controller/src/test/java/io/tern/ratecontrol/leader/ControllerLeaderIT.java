package io.tern.ratecontrol.leader;

import io.tern.devstack.Ports;
import io.tern.devstack.SharedInfra;
import io.tern.devstack.process.JavaProcess;
import io.tern.ratecontrol.RateControllerMain;
import io.tern.runtime.config.Settings;
import io.tern.store.Keys;
import io.tern.store.lease.LeaderLease;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.PermitUsage;
import io.tern.store.throttle.PermitUsageRepository;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tern.ratecontrol.ControllerFixture.call;
import static io.tern.ratecontrol.ControllerFixture.json;
import static io.tern.ratecontrol.ControllerFixture.report;
import static io.tern.ratecontrol.ControllerFixture.settings;
import static io.tern.ratecontrol.ControllerFixture.throttle;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two controllers, each its own JVM, on one Redis: one leads. The leader is killed with SIGKILL (no shutdown
 * hook: its lease is not released and must expire); the other takes the lease over, continues from the stored
 * directive (no new version for the same load), keeps the heartbeat alive throughout (obeyers never see the
 * controller gone), and decides the next change itself.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ControllerLeaderIT {
    private static final Logger log = LoggerFactory.getLogger(ControllerLeaderIT.class);
    private static final int DB = 13;
    private static final Duration LEASE_TTL = Duration.ofSeconds(3);
    private static final Duration AWAIT = Duration.ofSeconds(60);
    private static String uri;
    private static RedisStore redis;
    private static BrokerRegistry registry;
    private static PermitUsageRepository usage;
    private static DirectiveRepository directives;

    @BeforeAll
    static void connect() {
        uri = SharedInfra.redis().uri() + "/" + DB;
        redis = RedisStore.connect(uri, Duration.ofSeconds(2));
        redis.async().flushdb().toCompletableFuture().join();
        registry = new BrokerRegistry(redis);
        usage = new PermitUsageRepository(redis);
        directives = new DirectiveRepository(redis);
    }

    @AfterAll
    static void close() {
        if (redis != null) {
            redis.close();
        }
    }

    private static JavaProcess launch(String id, int port) {
        Map<String, String> env = new HashMap<>();
        settings(id, uri, Map.of("ratecontrol.port", Integer.toString(port),
                "ratecontrol.lease-ttl", LEASE_TTL.toMillis() + "ms", "ratecontrol.min-dwell", "2s"))
                .forEach((k, v) -> env.put(Settings.keyToEnv(k), v));
        Path logFile = Path.of("target", "controller-leader-it", id + ".log");
        return JavaProcess.start(new JavaProcess.Spec("rate-controller " + id, List.of("-Xmx128m"),
                RateControllerMain.class.getName(), List.of(), env, logFile, Duration.ofMinutes(5)));
    }

    private static String role(int port) {
        return json(call(port, "GET", "/health", null, null)).path("role").asText();
    }

    private static void load(double downstream, double gated) {
        report(registry, "b1", "local", 10_000, downstream);
        usage.report("logic-1", new PermitUsage(gated, System.currentTimeMillis() + 120_000)).join();
    }

    @Test
    void whenTheLeaderIsKilledTheOtherContinuesTheDirectiveAndItsHeartbeat() {
        load(9_000, 8_000);
        int portA = Ports.free();
        int portB = Ports.free();
        try (JavaProcess a = launch("rc-a", portA)) {
            await().atMost(AWAIT).ignoreExceptions().until(() -> role(portA).equals("leader"));
            runSecond(a, portA, portB);
        }
    }

    private void runSecond(JavaProcess a, int portA, int portB) {
        try (JavaProcess b = launch("rc-b", portB)) {
            await().atMost(AWAIT).ignoreExceptions().until(() -> role(portB).equals("follower"));
            await().atMost(AWAIT).until(() -> directives.load().join().version() == 1);
            ThrottleDirective first = directives.load().join();
            assertEquals(ThrottleState.THROTTLED, first.state());
            assertEquals(8_000 - 1_000, first.permitPerSecond());
            assertEquals("controller rc-a", directives.history(1).join().get(0).by());
            assertEquals("rc-a", throttle(portB).path("leader").asText(), "the follower shows who leads");

            long killedAt = System.currentTimeMillis();
            a.kill();
            assertFalse(a.alive());
            // Watch the heartbeat through the takeover: obeyers hold the directive while it lives.
            long worstAge = 0;
            while (!role(portB).equals("leader")) {
                long beat = directives.lastHeartbeat().join();
                assertTrue(beat > 0, "the heartbeat lapsed during the takeover");
                worstAge = Math.max(worstAge, System.currentTimeMillis() - beat);
                assertTrue(System.currentTimeMillis() - killedAt < AWAIT.toMillis(), "no takeover");
                await().pollDelay(Duration.ofMillis(100)).until(() -> true);
            }
            long takeover = System.currentTimeMillis() - killedAt;
            await().atMost(AWAIT).until(() -> directives.lastHeartbeat().join() > killedAt + takeover);
            log.info("rc-b leads {} ms after rc-a was killed (lease TTL {} ms); heartbeat at most {} ms old meanwhile",
                    takeover, LEASE_TTL.toMillis(), worstAge);
            assertTrue(new LeaderLease(redis, Keys.rateControllerLeader()).holder().join().startsWith("rc-b|"));
            await().atMost(AWAIT).until(() -> throttle(portB).path("leader").asText().equals("rc-b"));
            assertTrue(throttle(portB).path("heartbeatAgeMillis").asLong() < LEASE_TTL.toMillis());

            // Same load: the new leader continues from the stored directive rather than writing its own.
            assertEquals(first, directives.load().join());

            // The load falls: the new leader releases the throttle, fenced by its own lease.
            load(3_000, 2_000);
            await().atMost(AWAIT).until(() -> directives.load().join().version() == 2);
            ThrottleDirective released = directives.load().join();
            assertEquals(ThrottleState.OPEN, released.state());
            assertEquals(8_000, released.permitPerSecond());
            assertEquals("controller rc-b", directives.history(1).join().get(0).by());
            assertTrue(b.alive());
        }
    }
}
