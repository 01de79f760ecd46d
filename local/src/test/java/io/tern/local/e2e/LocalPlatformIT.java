package io.tern.local.e2e;

import io.tern.broker.Broker;
import io.tern.devstack.Ports;
import io.tern.logic.LogicNode;
import io.tern.ops.cli.region.RegionCommand;
import io.tern.local.LocalPlatform;
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
 * device at home in north. The banner's drill, run with {@code ternctl region}, moves the demo device to south and back,
 * and a push through either logic node reaches it in each region and ends delivered.
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
        s.put("local.disk-kv-port", Integer.toString(Ports.free()));
        s.put("local.dev-tls-dir", dir.resolve("tls").toString());
        s.put("local.sre-token", SRE_TOKEN);
        for (String port : List.of("dispatcher.port", "logic.port", "scheduler.port", "ratecontrol.port", "bypass.port",
                "backup.port",
                "broker.tcp-port", "broker.ws-port", "broker.internal-port", "broker.admin-port")) {
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
        assertNotNull(platform.cluster().rateController(), "dev mode runs a rate controller");
        assertNotNull(platform.cluster().bypassConsumer(), "and a bypass consumer");
        assertEquals(SRE_TOKEN, platform.cluster().rateController().config().sreToken(), "one SRE token for both admin APIs");

        List<InetSocketAddress> roles = new ArrayList<>();
        brokers.forEach(b -> roles.add(b.adminAddress()));
        roles.add(platform.cluster().dispatcher().address());
        platform.cluster().logicNodes().forEach(l -> roles.add(l.address()));
        roles.add(platform.cluster().scheduler().address());
        roles.add(platform.cluster().rateController().address());
        roles.add(platform.cluster().bypassConsumer().address());
        roles.add(platform.diskKvBackup().address());
        HttpClient http = HttpClient.newHttpClient();
        for (InetSocketAddress role : roles) {
            URI health = URI.create("http://" + role.getHostString() + ":" + role.getPort() + "/health");
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    http.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
        }
    }

    /** The disk KV's stand-in and its backup run, and the route copy's topic keeps the last change per device. */
    @Test
    void theDiskKvBackupRunsAndTheRoutesTopicIsCompacted() throws Exception {
        ByteArrayOutputStream banner = new ByteArrayOutputStream();
        platform.printBanner(new PrintStream(banner, true, StandardCharsets.UTF_8));
        String text = banner.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("disk-kv backup http://127.0.0.1:" + platform.diskKvBackup().address().getPort()), text);
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                "bootstrap.servers", platform.kafkaBootstrap()))) {
            var routes = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, io.tern.store.topic.Topics.ROUTES);
            var config = admin.describeConfigs(List.of(routes)).all().get(30, java.util.concurrent.TimeUnit.SECONDS)
                    .get(routes);
            assertEquals("compact", config.get("cleanup.policy").value());
        }
    }

    @Test
    void demoDeviceFollowsTheBannersFailoverDrillAndGetsAPushInEachRegion() {
        Broker north = platform.cluster().brokers().get(0);
        Broker south = platform.cluster().brokers().get(1);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertTrue(
                printed().contains("[demo device demo-device-1] connected to broker 127.0.0.1:" + north.tcpAddress().getPort()), printed()));
        assertEquals(1, north.connectionCount(), "the demo device is at home in north");
        assertEquals(0, south.connectionCount());
        List<LogicNode> logic = platform.cluster().logicNodes();
        pushAndAwaitDelivered(logic.get(1), logic.get(0), "at home, through l2");

        // The drill as the banner prints it.
        Run failover = ternctl("failover", "north", "--to", "south", "--rate", "200", "--reason", "drill");
        assertEquals(0, failover.status(), failover.toString());
        Run watched = ternctl("watch", "north", "--timeout", "60s");
        assertEquals(0, watched.status(), watched.toString());
        assertTrue(watched.out().strip().endsWith("done: north failed-over"), watched.out());
        await().atMost(Duration.ofSeconds(30)).until(() -> south.connectionCount() == 1 && north.connectionCount() == 0);
        assertTrue(printed().contains("[demo device demo-device-1] connected to broker 127.0.0.1:" + south.tcpAddress().getPort()), printed());
        pushAndAwaitDelivered(logic.get(0), logic.get(1), "moved to south, through l1");

        Run failback = ternctl("failback", "north", "--rate", "200", "--reason", "drill over");
        assertEquals(0, failback.status(), failback.toString());
        Run back = ternctl("watch", "north", "--timeout", "60s");
        assertEquals(0, back.status(), back.toString());
        assertTrue(back.out().strip().endsWith("done: north active"), back.out());
        await().atMost(Duration.ofSeconds(30)).until(() -> north.connectionCount() == 1 && south.connectionCount() == 0);
        pushAndAwaitDelivered(logic.get(1), logic.get(0), "back home, through l2");
    }

    /** A push to the demo device through {@code via}; the device prints it and {@code check} reports it delivered. */
    private static void pushAndAwaitDelivered(LogicNode via, LogicNode check, String body) {
        PushApiClient api = new PushApiClient(via.address()).login("demo", "demo-key", "demo-secret");
        PushApiClient.Response r = api.pushNotification("demo-device-1", "Hello", body).join();
        assertEquals(200, r.status(), r.toString());
        String msgId = r.body().get("msgId").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> printed().contains("received msgId=" + msgId + " "));
        assertTrue(printed().contains(body), printed());
        PushApiClient other = new PushApiClient(check.address()).login("demo", "demo-key", "demo-secret");
        await().atMost(Duration.ofSeconds(30)).until(() -> other.status(msgId).equals("delivered"));
    }

    private record Run(int status, String out, String err) {
    }

    /** {@code ternctl region ...} with the banner's environment: the local scheduler and the SRE token. */
    private static Run ternctl(String... args) {
        InetSocketAddress scheduler = platform.cluster().scheduler().address();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RegionCommand command = new RegionCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false,
                Map.of("TERN_SCHEDULER_URL", "http://" + scheduler.getHostString() + ":" + scheduler.getPort(),
                        "TERN_SRE_TOKEN", SRE_TOKEN), Clock.systemUTC(), Duration.ofMillis(200));
        int status = command.run(List.of(args));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void bannerPrintsTheSchedulerTokenTheControllerAndTheDrills() {
        ByteArrayOutputStream banner = new ByteArrayOutputStream();
        platform.printBanner(new PrintStream(banner, true, StandardCharsets.UTF_8));
        String text = banner.toString(StandardCharsets.UTF_8);
        InetSocketAddress scheduler = platform.cluster().scheduler().address();
        String schedulerUrl = "http://" + scheduler.getHostString() + ":" + scheduler.getPort();
        assertTrue(text.contains("scheduler      " + schedulerUrl), text);
        assertTrue(text.contains("SRE token      " + SRE_TOKEN), text);
        assertTrue(text.contains("console        " + schedulerUrl + "/console "), text);
        assertTrue(text.contains("export TERN_SCHEDULER_URL=" + schedulerUrl + " TERN_SRE_TOKEN=" + SRE_TOKEN), text);
        assertTrue(text.contains("./ternctl region failover north --to south --rate 200 --reason drill"), text);
        assertTrue(text.contains("./ternctl region failback north"), text);
        assertTrue(text.contains("logic node l2 "), text);
        assertTrue(text.contains("Watch regions in metrics: for u in " + schedulerUrl + " "), text);
        assertTrue(text.contains("region north"), text);
        assertTrue(text.contains("region south"), text);
        InetSocketAddress controller = platform.cluster().rateController().address();
        String controllerUrl = "http://" + controller.getHostString() + ":" + controller.getPort();
        assertTrue(text.contains("rate control   " + controllerUrl), text);
        assertTrue(text.contains("export TERN_CONTROLLER_URL=" + controllerUrl + " TERN_SRE_TOKEN=" + SRE_TOKEN), text);
        assertTrue(text.contains("./ternctl throttle status"), text);
    }

    @Test
    void regionListAnswersFromTheLocalScheduler() {
        // Brokers report every second: wait until the scheduler has seen both.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Run list = ternctl("list");
            assertEquals(0, list.status(), list.toString());
            assertEquals(2, list.out().lines().filter(l -> l.matches("(north|south)\\s+\\S+\\s+\\S+\\s+1\\s+\\d+.*")).count(), list.out());
        });
    }
}
