package io.tern.ops.e2e;

import io.tern.broker.Broker;
import io.tern.devstack.Ports;
import io.tern.logic.LogicNode;
import io.tern.ops.cli.region.RegionCommand;
import io.tern.ops.local.LocalPlatform;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./ternctl local} as a developer gets it (its own Redis and Kafka, dev TLS on), on free ports: regions north
 * (b1) and south (b2), two logic nodes, the global scheduler with the SRE token from {@code local.sre-token}, the demo
 * device at home in north. A push through the second logic node reaches the demo device and ends delivered; the banner
 * carries the failover drill; {@code ternctl region list} answers from the scheduler.
 */
class LocalPlatformIT {
    private static final String SRE_TOKEN = "local-platform-it-sre-token";
    @TempDir
    static Path dir;
    private static final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private static LocalPlatform platform;

    @BeforeAll
    static void start() {
        Map<String, String> s = new HashMap<>();
        s.put("local.redis-port", Integer.toString(Ports.free()));
        s.put("local.kafka-port", Integer.toString(Ports.free()));
        s.put("local.dev-tls-dir", dir.resolve("tls").toString());
        s.put("local.sre-token", SRE_TOKEN);
        for (String port : List.of("dispatcher.port", "logic.port", "scheduler.port", "broker.tcp-port", "broker.ws-port",
                "broker.internal-port", "broker.admin-port")) {
            s.put(port, "0");
        }
        platform = LocalPlatform.start(Settings.of(s), new PrintStream(printed, true, StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    private static String printed() {
        synchronized (printed) {
            return printed.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void twoRegionsTwoLogicNodesAndTheSchedulerAreUpAndHealthy() throws Exception {
        List<Broker> brokers = platform.cluster().brokers();
        assertEquals(2, brokers.size());
        assertEquals("b1", brokers.get(0).id());
        assertEquals("north", brokers.get(0).config().region());
        assertEquals("b2", brokers.get(1).id());
        assertEquals("south", brokers.get(1).config().region());
        assertEquals("north", platform.cluster().dispatcher().config().defaultRegion());
        assertEquals(2, platform.cluster().logicNodes().size());
        assertNotNull(platform.cluster().scheduler());
        assertEquals(List.of("north", "south"), platform.cluster().scheduler().config().regions());

        List<InetSocketAddress> roles = new ArrayList<>();
        brokers.forEach(b -> roles.add(b.adminAddress()));
        roles.add(platform.cluster().dispatcher().address());
        platform.cluster().logicNodes().forEach(l -> roles.add(l.address()));
        roles.add(platform.cluster().scheduler().address());
        HttpClient http = HttpClient.newHttpClient();
        for (InetSocketAddress role : roles) {
            URI health = URI.create("http://" + role.getHostString() + ":" + role.getPort() + "/health");
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    http.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
        }
    }

    @Test
    void demoDeviceLivesInNorthAndGetsAPushSentThroughTheSecondLogicNode() {
        Broker north = platform.cluster().brokers().get(0);
        Broker south = platform.cluster().brokers().get(1);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertTrue(
                printed().contains("[demo device demo-device-1] connected to broker 127.0.0.1:" + north.tcpAddress().getPort()), printed()));
        assertEquals(1, north.connectionCount(), "the demo device is at home in north");
        assertEquals(0, south.connectionCount());
        LogicNode second = platform.cluster().logicNodes().get(1);
        PushApiClient api = new PushApiClient(second.address()).login("demo", "demo-key", "demo-secret");
        PushApiClient.Response r = api.pushNotification("demo-device-1", "Hello", "from l2").join();
        assertEquals(200, r.status(), r.toString());
        String msgId = r.body().get("msgId").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> printed().contains("received msgId=" + msgId + " "));
        PushApiClient first = new PushApiClient(platform.cluster().logic().address()).login("demo", "demo-key", "demo-secret");
        await().atMost(Duration.ofSeconds(30)).until(() -> first.status(msgId).equals("delivered"));
    }

    @Test
    void bannerPrintsTheSchedulerTokenAndTheFailoverDrill() {
        ByteArrayOutputStream banner = new ByteArrayOutputStream();
        platform.printBanner(new PrintStream(banner, true, StandardCharsets.UTF_8));
        String text = banner.toString(StandardCharsets.UTF_8);
        InetSocketAddress scheduler = platform.cluster().scheduler().address();
        String schedulerUrl = "http://" + scheduler.getHostString() + ":" + scheduler.getPort();
        assertTrue(text.contains("scheduler      " + schedulerUrl), text);
        assertTrue(text.contains("SRE token      " + SRE_TOKEN), text);
        assertTrue(text.contains("export TERN_SCHEDULER_URL=" + schedulerUrl + " TERN_SRE_TOKEN=" + SRE_TOKEN), text);
        assertTrue(text.contains("./ternctl region failover north --to south --rate 200 --reason drill"), text);
        assertTrue(text.contains("./ternctl region failback north"), text);
        assertTrue(text.contains("logic node l2 "), text);
        assertTrue(text.contains("region north"), text);
        assertTrue(text.contains("region south"), text);
    }

    @Test
    void regionListAnswersFromTheLocalScheduler() {
        InetSocketAddress scheduler = platform.cluster().scheduler().address();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RegionCommand ternctl = new RegionCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false,
                Map.of("TERN_SCHEDULER_URL", "http://" + scheduler.getHostString() + ":" + scheduler.getPort(),
                        "TERN_SRE_TOKEN", SRE_TOKEN), Clock.systemUTC(), Duration.ofMillis(100));
        // Brokers report every second: wait until the scheduler has seen both.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            out.reset();
            return ternctl.run(List.of("list")) == 0
                    && out.toString(StandardCharsets.UTF_8).lines().filter(l -> l.matches("(north|south)\\s+active\\s+\\S+\\s+1\\s+\\d+")).count() == 2;
        });
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }
}
