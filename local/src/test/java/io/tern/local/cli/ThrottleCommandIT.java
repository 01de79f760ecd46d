package io.tern.local.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.devstack.Ports;
import io.tern.devstack.RedisServer;
import io.tern.ops.cli.throttle.ThrottleCommand;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.registry.DeliveryStats;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.ThrottleDirective;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ternctl throttle ...} against a real rate controller on its own real Redis (the directive is one key per
 * Redis). One broker is simulated by its registry entry: capacity 1,000 deliveries/s, 100/s delivered, so the
 * controller leads with an OPEN directive; the CLI pins the permit, the stored directive follows, the CLI releases
 * it and the controller decides again.
 */
class ThrottleCommandIT {
    private static final String TOKEN = "throttle-cli-it-sre-token-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RedisServer redis;
    private static RedisStore store;
    private static RateController controller;
    private static DirectiveRepository directives;
    private static String url;

    @BeforeAll
    static void start() {
        redis = RedisServer.start(RedisServer.Options.defaults().withPort(Ports.free()));
        store = RedisStore.connect(redis.uri(), Duration.ofSeconds(2));
        directives = new DirectiveRepository(store);
        new BrokerRegistry(store).heartbeat(new BrokerInfo("b1", "local", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", 10,
                System.currentTimeMillis(), Map.of(), null, new DeliveryStats(1_000, 100, 1_000)), Duration.ofMinutes(5),
                System.currentTimeMillis()).join();
        controller = RateController.start(RateControllerConfig.from(Settings.of(Map.of(
                "ratecontrol.id", "rc1",
                "ratecontrol.port", "0",
                "ratecontrol.redis-uri", redis.uri(),
                "ratecontrol.sre-token", TOKEN,
                "ratecontrol.tick", "50ms",
                "ratecontrol.tls.plain", "true"))));
        url = "http://" + Ports.HOST + ":" + controller.address().getPort();
        await().atMost(Duration.ofSeconds(30)).until(() -> controller.leader() && stored().version() >= 1);
    }

    @AfterAll
    static void stop() {
        if (controller != null) {
            controller.close();
        }
        if (store != null) {
            store.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static ThrottleDirective stored() {
        return directives.load().join();
    }

    private record Run(int status, String out, String err) {
    }

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new ThrottleCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env).run(List.of(args));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Run run(String... args) {
        Map<String, String> env = new HashMap<>();
        env.put("TERN_CONTROLLER_URL", url);
        env.put("TERN_SRE_TOKEN", TOKEN);
        return run(env, args);
    }

    @Test
    void statusSetAndReleaseGoThroughTheControllerToTheStoredDirective() throws Exception {
        Run status = run("status");
        assertEquals(0, status.status(), status.err());
        assertTrue(status.out().contains("OPEN: permit"), status.out());
        assertTrue(status.out().contains("of capacity 1,000 deliveries/s"), status.out());
        assertTrue(status.out().contains("leader rc1"), status.out());

        Run set = run("set", "--rate", "250", "--reason", "cli drill");
        assertEquals(0, set.status(), set.err());
        assertTrue(set.out().contains("permit pinned at 250 deliveries/s"), set.out());
        ThrottleDirective pinned = stored();
        assertEquals(250, pinned.permitPerSecond());
        assertEquals(ThrottleDirective.BY_SRE, pinned.source());
        assertEquals("cli drill", pinned.reason());
        // The controller leaves an SRE pin alone while the load is unchanged.
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> stored().version() == pinned.version());

        JsonNode json = JSON.readTree(run("status", "--output", "json").out());
        assertEquals(250, json.path("directive").path("permitPerSecond").asLong());
        assertEquals(ThrottleDirective.BY_SRE, json.path("directive").path("source").asText());

        Run release = run("release");
        assertEquals(0, release.status(), release.err());
        assertTrue(release.out().contains("pin released"), release.out());
        await().atMost(Duration.ofSeconds(10)).until(() -> !ThrottleDirective.BY_SRE.equals(stored().source()));
        assertTrue(stored().version() > pinned.version());

        Run again = run("release");
        assertEquals(1, again.status(), "nothing pinned: the controller refuses");
        assertTrue(again.err().contains("409"), again.err());
    }

    @Test
    void aWrongTokenIsRefusedAndChangesNothing() {
        long before = stored().version();
        Map<String, String> env = Map.of("TERN_CONTROLLER_URL", url);
        Run r = run(env, "set", "--rate", "1", "--token", "not-the-sre-token-at-all");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("HTTP 401"), r.err());
        assertEquals(before, stored().version());
    }

    @Test
    void anUnreachableControllerIsExitOneWithWhereItLooked() {
        Run r = run(Map.of("TERN_SRE_TOKEN", TOKEN), "status", "--controller", "http://127.0.0.1:" + Ports.free());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("cannot reach the rate controller"), r.err());
    }

    @Test
    void aBadCommandLineIsExitTwoAndSendsNothing() {
        assertEquals(2, run("set").status(), "set without --rate");
        assertEquals(2, run("set", "--rate", "-5").status(), "a negative rate");
        assertEquals(2, run("set", "--rate", "lots").status(), "not a number");
        assertEquals(2, run("pause").status(), "unknown command");
        assertEquals(2, run(Map.of(), "status").status(), "no token");
    }
}
