package io.tern.ratecontrol.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.SharedInfra;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.throttle.DirectiveChange;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.PermitUsage;
import io.tern.store.throttle.PermitUsageRepository;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tern.ratecontrol.ControllerFixture.report;
import static io.tern.ratecontrol.ControllerFixture.settings;
import static io.tern.ratecontrol.ControllerFixture.throttle;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One controller on the real Redis, fed by broker heartbeats written to the real registry as brokers write them
 * (BrokerIT shows a real broker's deliveries reaching its heartbeat): how soon a load change is seen, and how
 * many directive versions an oscillating or a steady overload produces.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ControlLoopIT {
    private static final Logger log = LoggerFactory.getLogger(ControlLoopIT.class);
    private static final int DB = 12;
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private RedisStore redis;
    private BrokerRegistry registry;
    private DirectiveRepository directives;
    private String uri;

    @BeforeEach
    void connect() {
        uri = SharedInfra.redis().uri() + "/" + DB;
        redis = RedisStore.connect(uri, Duration.ofSeconds(2));
        redis.async().flushdb().toCompletableFuture().join();
        registry = new BrokerRegistry(redis);
        directives = new DirectiveRepository(redis);
    }

    @AfterEach
    void close() {
        redis.close();
    }

    private RateController start(String id, String dwell) {
        return RateController.start(RateControllerConfig.from(Settings.of(settings(id, uri,
                Map.of("ratecontrol.min-dwell", dwell, "ratecontrol.tick", "250ms")))));
    }

    @Test
    void aBrokersDeliveriesReachTheControllerWithinAHeartbeatAndATick() {
        report(registry, "b1", "local", 10_000, 0);
        try (RateController c = start("rc-seen", "1s")) {
            int port = c.address().getPort();
            await().atMost(AWAIT).until(() -> throttle(port).path("capacityPerSecond").asLong() == 10_000);
            long[] samples = new long[5];
            for (int i = 0; i < samples.length; i++) {
                double rate = 1_000 * (i + 1);
                long written = System.nanoTime();
                report(registry, "b1", "local", 10_000, rate);
                await().atMost(AWAIT).pollInterval(Duration.ofMillis(10))
                        .until(() -> throttle(port).path("downstreamPerSecond").asDouble() == rate);
                samples[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - written);
            }
            // Logged, not asserted (a loaded machine is slower): the bound by construction is one tick (250 ms)
            // after the broker's heartbeat, which brokers send every broker.liveness-interval (500 ms).
            log.info("heartbeat to controller: {} ms (tick 250 ms)", java.util.Arrays.toString(samples));
        }
    }

    /**
     * Load the permit does not control swings between 75 % and 85 % of capacity every 300 ms for 8 s (four dwells): the
     * controller throttles, and changes the directive no more often than once per dwell (2 s).
     */
    @Test
    void loadOscillatingAroundEightyPercentChangesTheDirectiveNoMoreThanTheDwellAllows() {
        long dwellMillis = 2_000;
        report(registry, "b1", "local", 10_000, 1_000);
        try (RateController c = start("rc-flap", dwellMillis + "ms")) {
            await().atMost(AWAIT).until(() -> directives.load().join().version() == 1);
            long start = System.currentTimeMillis();
            boolean high = false;
            while (System.currentTimeMillis() - start < 8_000) {
                high = !high;
                report(registry, "b1", "local", 10_000, high ? 8_500 : 7_500);
                await().pollDelay(Duration.ofMillis(300)).until(() -> true);
            }
            long elapsed = System.currentTimeMillis() - start;
            List<DirectiveChange> changes = new java.util.ArrayList<>(directives.history(1000).join());
            java.util.Collections.reverse(changes); // oldest first
            long allowed = elapsed / dwellMillis + 1;
            log.info("{} directive versions in {} ms of oscillation (dwell {} ms allows {})", changes.size() - 1,
                    elapsed, dwellMillis, allowed);
            assertTrue(changes.size() - 1 <= allowed, changes.size() - 1 + " changes, the dwell allows " + allowed);
            for (int i = 1; i < changes.size(); i++) {
                long gap = changes.get(i).atMillis() - changes.get(i - 1).atMillis();
                assertTrue(gap >= dwellMillis, "versions " + changes.get(i - 1).version() + " and "
                        + changes.get(i).version() + " only " + gap + " ms apart");
            }
            assertEquals(ThrottleState.THROTTLED, directives.load().join().state(),
                    "75 % never reaches the 60 % release mark");
        }
    }

    /**
     * A steady overload at 95 %, most of it let through by obeyers that report it: the controller throttles once,
     * leaving room for the ungated 1000/s, and holds the directive.
     */
    @Test
    void aSteadyOverloadMakesOneChangeAndHolds() {
        PermitUsageRepository usage = new PermitUsageRepository(redis);
        report(registry, "b1", "local", 10_000, 9_500);
        usage.report("logic-1", new PermitUsage(8_500, System.currentTimeMillis() + 60_000)).join();
        try (RateController c = start("rc-steady", "1s")) {
            await().atMost(AWAIT).until(() -> directives.load().join().version() >= 1);
            long beat = directives.lastHeartbeat().join();
            // Five seconds of ticks, five dwells: each one a chance to change it.
            await().atMost(AWAIT).until(() -> directives.lastHeartbeat().join() > beat + 5_000);
            ThrottleDirective d = directives.load().join();
            assertEquals(1, d.version(), "one version in five dwells: " + directives.history(10).join());
            assertEquals(ThrottleState.THROTTLED, d.state());
            assertEquals(8_000 - 1_000, d.permitPerSecond());
            JsonNode s = throttle(c.address().getPort());
            assertEquals(8_500, s.path("gatedPerSecond").asDouble(), 1e-9);
            assertEquals(1_000, s.path("ungatedPerSecond").asDouble(), 1e-9);
        }
    }
}
