package io.tern.local.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.devstack.Ports;
import io.tern.devstack.RedisServer;
import io.tern.ops.cli.region.RegionCommand;
import io.tern.ops.cli.region.RegionView;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.GlobalScheduler;
import io.tern.scheduler.config.SchedulerConfig;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ternctl region ...} against a real global scheduler on its own real Redis (the region policy is one key per
 * Redis, so no other test class may share it). Brokers are simulated by writing their registry entries
 * ({@link BrokerRegistry#heartbeat}) the way a broker does every second: north's broker b1 drains during a failover,
 * south's b2 gives north's devices back during the failback, and the scheduler moves through its stages from those
 * reports alone.
 */
class RegionCommandIT {
    private static final String TOKEN = "region-cli-it-sre-token-0123456789";
    private static final Duration BROKER_TTL = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RedisServer redis;
    private static RedisStore store;
    private static BrokerRegistry registry;
    private static GlobalScheduler scheduler;
    private static String url;

    @BeforeAll
    static void start() {
        redis = RedisServer.start(RedisServer.Options.defaults().withPort(Ports.free()));
        store = RedisStore.connect(redis.uri(), Duration.ofSeconds(2));
        registry = new BrokerRegistry(store);
        heartbeat("b1", "north", 100, Map.of("north", 100));
        heartbeat("b2", "south", 0, Map.of());
        scheduler = GlobalScheduler.start(SchedulerConfig.from(Settings.of(Map.of(
                "scheduler.id", "s1",
                "scheduler.port", "0",
                "scheduler.redis-uri", redis.uri(),
                "scheduler.sre-token", TOKEN,
                "scheduler.regions", "north,south",
                "scheduler.tick", "50ms",
                "scheduler.registry-refresh", "100ms",
                "scheduler.policy-poll", "100ms",
                "scheduler.tls.plain", "true"))));
        url = "http://" + Ports.HOST + ":" + scheduler.address().getPort();
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.leader() && scheduler.policyVersion() >= 1);
    }

    @AfterAll
    static void stop() {
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

    /** What a broker reports: its sessions, and how many of them are at home in each region. */
    private static void heartbeat(String id, String region, int connections, Map<String, Integer> homes) {
        registry.heartbeat(new BrokerInfo(id, region, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", connections,
                System.currentTimeMillis(), homes, null, null), BROKER_TTL, System.currentTimeMillis()).join();
    }

    /** One {@code ternctl region ...} run: its exit status and what it printed. */
    private record Run(int status, String out, String err) {
    }

    private static final class Terminal {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final RegionCommand command;

        Terminal(boolean tty, Map<String, String> env) {
            command = new RegionCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), tty, env, Clock.systemUTC(), Duration.ofMillis(100));
        }

        String out() {
            synchronized (out) {
                return out.toString(StandardCharsets.UTF_8);
            }
        }

        Run run(String... args) {
            int status = command.run(List.of(args));
            return new Run(status, out(), err.toString(StandardCharsets.UTF_8));
        }
    }

    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("TERN_SCHEDULER_URL", url);
        env.put("TERN_SRE_TOKEN", TOKEN);
        return env;
    }

    private static Run ternctl(String... args) {
        return new Terminal(false, env()).run(args);
    }

    private static void assertApiError(Run run, int httpStatus, String messagePart, String field) {
        assertEquals(RegionCommand.API_ERROR, run.status(), run.toString());
        assertTrue(run.err().contains("[HTTP " + httpStatus), run.toString());
        assertTrue(run.err().contains(messagePart), run.toString());
        if (field != null) {
            assertTrue(run.err().contains("(field " + field + ")"), run.toString());
        }
    }

    @Test
    void failoverWatchedToTheEndThenFailbackWatchedOnATerminalAndTheHistoryTellsIt() throws Exception {
        Run list = ternctl("list");
        assertEquals(0, list.status(), list.toString());
        assertTrue(list.out().lines().anyMatch(l -> l.matches("north\\s+active\\s+north\\s+1\\s+100")), list.out());
        assertTrue(list.out().lines().anyMatch(l -> l.matches("south\\s+active\\s+south\\s+1\\s+0")), list.out());

        JsonNode listed = JSON.readTree(ternctl("list", "--output", "json").out());
        long version = listed.get("version").asLong();
        assertEquals(2, listed.get("regions").size(), listed.toString());

        // A stale If-Match is refused and changes nothing.
        assertApiError(ternctl("failover", "north", "--to", "south", "--if-match", Long.toString(version - 1)), 409,
                "", null);

        Run failover = ternctl("failover", "north", "--to", "south", "--rate", "1000", "--reason", "drill",
                "--if-match", Long.toString(version));
        assertEquals(0, failover.status(), failover.toString());
        assertTrue(failover.out().contains("failover of north to south accepted: policy version " + (version + 1)), failover.out());

        // A region already moving: 409, with the API's message.
        assertApiError(ternctl("failover", "north", "--to", "south"), 409, "", null);

        // Watch on a pipe (plain lines) while north's broker drains: 100 -> 60 -> 0 sessions.
        Terminal pipe = new Terminal(false, env());
        CompletableFuture<Run> watch = CompletableFuture.supplyAsync(() -> pipe.run("watch", "north", "--timeout", "90s"));
        await().atMost(Duration.ofSeconds(30)).until(() -> pipe.out().contains("left 100"));
        heartbeat("b1", "north", 60, Map.of("north", 60));
        heartbeat("b2", "south", 40, Map.of("north", 40));
        await().atMost(Duration.ofSeconds(30)).until(() -> pipe.out().contains("moved 40  left 60"));
        heartbeat("b1", "north", 0, Map.of());
        heartbeat("b2", "south", 100, Map.of("north", 100));
        Run watched = watch.get(60, TimeUnit.SECONDS);
        assertEquals(0, watched.status(), watched.toString());
        List<String> lines = watched.out().lines().toList();
        assertFalse(watched.out().contains("\r"), "no terminal: plain lines, no redraw");
        assertTrue(lines.get(0).startsWith("north -> south failover ["), watched.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("  40%  moved 40  left 60  stage ")), watched.out());
        String last = lines.get(lines.size() - 1);
        assertTrue(last.contains("[" + "#".repeat(RegionView.BAR_WIDTH) + "] 100%"), last);
        assertTrue(last.endsWith("done: north failed-over"), last);

        Run afterFailover = ternctl("list");
        assertTrue(afterFailover.out().lines().anyMatch(l -> l.matches("north\\s+failed-over\\s+south\\s+1\\s+0")), afterFailover.out());

        // Failback, watched on a terminal: one line redrawn with \r until south has given north's devices back.
        Run failback = ternctl("failback", "north", "--rate", "1000", "--reason", "drill over");
        assertEquals(0, failback.status(), failback.toString());
        Terminal tty = new Terminal(true, env());
        CompletableFuture<Run> ttyWatch = CompletableFuture.supplyAsync(() -> tty.run("watch", "north", "--timeout", "90s"));
        await().atMost(Duration.ofSeconds(30)).until(() -> tty.out().contains("south -> north failback"));
        heartbeat("b2", "south", 0, Map.of());
        heartbeat("b1", "north", 100, Map.of("north", 100));
        Run ttyRun = ttyWatch.get(60, TimeUnit.SECONDS);
        assertEquals(0, ttyRun.status(), ttyRun.toString());
        assertTrue(ttyRun.out().startsWith("\rsouth -> north failback ["), ttyRun.out());
        assertTrue(ttyRun.out().endsWith(System.lineSeparator()), "the line is ended once watching stops: " + ttyRun.out());
        String lastDrawn = ttyRun.out().substring(ttyRun.out().lastIndexOf('\r') + 1).strip();
        assertTrue(lastDrawn.contains("[" + "#".repeat(RegionView.BAR_WIDTH) + "] 100%"), lastDrawn);
        assertTrue(lastDrawn.endsWith("done: north active"), lastDrawn);
        assertEquals(1, ttyRun.out().chars().filter(c -> c == '\n').count(), "one redrawn line, ended once: " + ttyRun.out());

        Run history = ternctl("history", "--limit", "100");
        assertEquals(0, history.status(), history.toString());
        List<String> changes = history.out().lines().toList();
        assertTrue(changes.stream().anyMatch(l -> l.matches(".*\\ssre\\s+failover\\s+north\\s+drill\\b.*")), history.out());
        assertTrue(changes.stream().anyMatch(l -> l.matches(".*\\ssre\\s+failback\\s+north\\s+drill over\\b.*")), history.out());
        assertTrue(changes.stream().filter(l -> l.matches(".*\\sscheduler:s1\\s+done\\s+north\\s.*")).count() == 2, history.out());
        assertTrue(changes.get(1).contains("done"), "newest first: " + history.out());
        JsonNode historyJson = JSON.readTree(ternctl("history", "--output", "json").out());
        assertTrue(historyJson.get("changes").size() >= 4, historyJson.toString());
    }

    @Test
    void wrongTokenIsRefusedWithTheApisMessageAndExitStatusOne() {
        Map<String, String> env = env();
        env.put("TERN_SRE_TOKEN", "not-the-token");
        Run run = new Terminal(false, env).run("list");
        assertApiError(run, 401, "Authorization", null);
        assertEquals("", run.out());

        Run json = new Terminal(false, env).run("list", "--output", "json");
        assertEquals(RegionCommand.API_ERROR, json.status());
        assertEquals("unauthorized", readTree(json.out()).path("code").asText(), "the API's error JSON for scripts: " + json.out());
    }

    @Test
    void unknownRegionIsNotFound() {
        assertApiError(ternctl("failover", "nowhere", "--to", "south"), 404, "nowhere", null);
        assertApiError(ternctl("watch", "nowhere"), 404, "nowhere", null);
    }

    @Test
    void badFieldsAreNamed() {
        assertApiError(ternctl("failover", "south", "--to", "south"), 400, "", "to");
        assertApiError(ternctl("failover", "south", "--to", "north", "--rate", "0"), 400, "", "ratePerSecond");
    }

    @Test
    void usageErrorsExitTwoAndSendNothing() {
        Map<String, String> noToken = Map.of("TERN_SCHEDULER_URL", url);
        Run run = new Terminal(false, noToken).run("list");
        assertEquals(RegionCommand.USAGE, run.status());
        assertTrue(run.err().contains("TERN_SRE_TOKEN"), run.err());
        assertEquals(RegionCommand.USAGE, ternctl("failover", "north").status());
    }

    @Test
    void unreachableSchedulerExitsOne() {
        Map<String, String> env = env();
        env.put("TERN_SCHEDULER_URL", "http://127.0.0.1:" + Ports.free());
        Run run = new Terminal(false, env).run("list");
        assertEquals(RegionCommand.API_ERROR, run.status());
        assertTrue(run.err().contains("cannot reach the global scheduler"), run.err());
    }

    private static JsonNode readTree(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }
}
