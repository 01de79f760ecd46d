package io.tern.broker;

import io.tern.broker.config.BrokerConfig;
import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.token.ConnectToken;
import io.tern.protocol.token.ConnectTokenSigner;
import io.tern.store.Keys;
import io.tern.store.message.AcceptResult;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One broker against real Redis and Kafka, driven by raw-frame devices and a raw logic-node link. */
class BrokerIT {
    private static final Logger log = LoggerFactory.getLogger(BrokerIT.class);
    private static final Duration AWAIT = Duration.ofSeconds(10);
    private static final AtomicLong correlation = new AtomicLong();

    private static Broker broker;
    private static RedisStore redis;
    private static RouteRepository routes;
    private static FrameClient logic;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        broker = Broker.start(TestBrokers.config(Map.of("broker.handshake-timeout", "1s")));
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        routes = new RouteRepository(redis);
        logic = FrameClient.internal(broker.internalAddress());
    }

    @AfterAll
    static void stop() {
        if (logic != null) {
            logic.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static Route route(String app, String reg) {
        return routes.get(app, reg).orTimeout(2, TimeUnit.SECONDS).join();
    }

    private static FrameClient connected(String app, String reg) {
        FrameClient device = FrameClient.tcp(broker.tcpAddress());
        device.connect(app, reg, TestBrokers.token(app, reg));
        return device;
    }

    /** Sends a PushCommand over the internal link and returns its outcome. */
    private static PushOutcome pushCommand(String app, String reg, Frame.Push push) {
        long id = correlation.incrementAndGet();
        logic.send(new Frame.PushCommand(id, app, reg, push));
        Frame.PushResult result = logic.expect(Frame.PushResult.class);
        assertEquals(id, result.correlationId());
        return result.outcome();
    }

    private static Frame.Push push(long msgId, String body) {
        return new Frame.Push(msgId, System.currentTimeMillis() + 60_000, PayloadKind.DATA,
                body.getBytes(StandardCharsets.UTF_8));
    }

    /** The rate controller's input: what the broker wrote to devices reaches its registry entry with its capacity. */
    @Test
    void deliveriesToDevicesReachTheRegistryHeartbeatWithTheBrokersCapacity() {
        String app = TestBrokers.uniqueApp();
        BrokerRegistry registry = new BrokerRegistry(redis);
        long before = registry.find(broker.id()).join().deliveries().delivered();
        assertEquals(BrokerConfig.DEFAULT_CAPACITY, registry.find(broker.id()).join().deliveries().capacityPerSecond());
        int pushes = 20;
        try (FrameClient device = connected(app, "counted")) {
            for (int i = 1; i <= pushes; i++) {
                assertEquals(PushOutcome.WRITTEN, pushCommand(app, "counted", push(1000 + i, "{}")));
                assertEquals(1000 + i, device.expect(Frame.Push.class).msgId());
            }
        }
        long sentAt = System.nanoTime();
        await().atMost(AWAIT).untilAsserted(() -> {
            var d = registry.find(broker.id()).join().deliveries();
            assertTrue(d.delivered() >= before + pushes, "delivered " + d.delivered() + " of " + (before + pushes));
            assertTrue(d.perSecond() > 0, "rate over the last second " + d.perSecond());
        });
        // Seen, not asserted (a loaded machine may be slower): a heartbeat is due every broker.liveness-interval.
        log.info("deliveries in the registry {} ms after the last push",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt));
    }

    @Test
    void validConnectGetsConnAckAndWritesTheRoute() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            long before = System.currentTimeMillis();
            Frame.ConnAck ack = device.connect(app, "r1", TestBrokers.token(app, "r1"));
            assertEquals(30, ack.heartbeatSeconds());
            assertTrue(ack.serverTimeMillis() >= before - 1000, "server time " + ack.serverTimeMillis());
            await().atMost(AWAIT).untilAsserted(() -> {
                Route r = route(app, "r1");
                assertNotNull(r, "route");
                assertEquals(broker.id(), r.brokerId());
            });
            assertEquals(1, ((Number) redis.async().exists(Keys.device(app, "r1")).toCompletableFuture().join()).intValue(),
                    "device marked known");
        }
    }

    @Test
    void forgedTokenIsRefusedWithTokenInvalid() {
        String app = TestBrokers.uniqueApp();
        String forged = new ConnectTokenSigner("another-secret-of-16+bytes".getBytes(StandardCharsets.UTF_8))
                .sign(new ConnectToken(app, "r1", "local", System.currentTimeMillis() + 60_000));
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.send(new Frame.Connect(app, "r1", forged, 0));
            device.expectDisconnect(ReasonCode.TOKEN_INVALID);
        }
        assertEquals(null, route(app, "r1"));
    }

    @Test
    void expiredTokenIsRefusedWithTokenExpired() {
        String app = TestBrokers.uniqueApp();
        String expired = TestBrokers.SIGNER.sign(new ConnectToken(app, "r1", "local", System.currentTimeMillis() - 1));
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.send(new Frame.Connect(app, "r1", expired, 0));
            device.expectDisconnect(ReasonCode.TOKEN_EXPIRED);
        }
    }

    @Test
    void tokenForAnotherRegIdIsRefusedWithTokenInvalid() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.send(new Frame.Connect(app, "r1", TestBrokers.token(app, "someone-else"), 0));
            device.expectDisconnect(ReasonCode.TOKEN_INVALID);
        }
    }

    @Test
    void noConnectWithinTheHandshakeTimeoutIsDisconnected() {
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.expectDisconnect(ReasonCode.HANDSHAKE_TIMEOUT);
        }
    }

    @Test
    void aFrameOtherThanConnectFirstIsAProtocolViolation() {
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.send(new Frame.Ack(1));
            device.expectDisconnect(ReasonCode.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void garbageBytesAreRefusedWhileAnotherDeviceStillGetsPushes() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient good = connected(app, "good");
             FrameClient bad = FrameClient.tcp(broker.tcpAddress())) {
            bad.sendRaw("GET / HTTP/1.1\r\nHost: broker\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            bad.expectDisconnect(ReasonCode.UNSUPPORTED_VERSION);

            assertEquals(PushOutcome.WRITTEN, pushCommand(app, "good", push(1, "{\"after\":\"garbage\"}")));
            assertEquals(1, good.expect(Frame.Push.class).msgId());
        }
    }

    @Test
    void anOversizedFrameIsRefusedWhileAnotherDeviceStillGetsPushes() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient good = connected(app, "good");
             FrameClient bad = FrameClient.tcp(broker.tcpAddress())) {
            // version 1, CONNECT, no flags, body length 65536 (> 8192): refused on the header alone
            bad.sendRaw(new byte[]{1, 0x01, 0, 0, 0, 1, 0, 0});
            bad.expectDisconnect(ReasonCode.FRAME_TOO_LARGE);

            assertEquals(PushOutcome.WRITTEN, pushCommand(app, "good", push(2, "{\"after\":\"oversized\"}")));
            assertEquals(2, good.expect(Frame.Push.class).msgId());
        }
    }

    @Test
    void aSecondConnectionReplacesTheFirstAndKeepsItsRoute() {
        String app = TestBrokers.uniqueApp();
        FrameClient first = connected(app, "r1");
        await().atMost(AWAIT).until(() -> route(app, "r1") != null);
        Route firstRoute = route(app, "r1");

        try (FrameClient second = connected(app, "r1")) {
            first.expectDisconnect(ReasonCode.SESSION_REPLACED);
            await().atMost(AWAIT).untilAsserted(() -> {
                Route r = route(app, "r1");
                assertNotNull(r);
                assertNotEquals(firstRoute.epoch(), r.epoch());
            });
            Route secondRoute = route(app, "r1");
            // The first connection's close has run by now; its compare-and-delete must not touch the new route.
            await().during(Duration.ofMillis(300)).atMost(AWAIT)
                    .untilAsserted(() -> assertEquals(secondRoute, route(app, "r1")));
            assertEquals(PushOutcome.WRITTEN, pushCommand(app, "r1", push(3, "{}")));
            assertEquals(3, second.expect(Frame.Push.class).msgId());
            first.close();
        }
        await().atMost(AWAIT).until(() -> route(app, "r1") == null);
    }

    @Test
    void closingADeviceDeletesItsRoute() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = connected(app, "r1")) {
            await().atMost(AWAIT).until(() -> route(app, "r1") != null);
        }
        await().atMost(AWAIT).until(() -> route(app, "r1") == null);
        assertEquals(PushOutcome.NOT_CONNECTED, pushCommand(app, "r1", push(4, "{}")));
    }

    @Test
    void pingIsAnsweredWithPong() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = connected(app, "r1")) {
            device.send(Frame.Ping.INSTANCE);
            device.expect(Frame.Pong.class);
        }
    }

    @Test
    void pushCommandReachesTheDeviceAndIsAnsweredWritten() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = connected(app, "r1")) {
            Frame.Push sent = push(42, "{\"title\":\"hi\",\"body\":\"there\"}");
            assertEquals(PushOutcome.WRITTEN, pushCommand(app, "r1", sent));
            Frame.Push got = device.expect(Frame.Push.class);
            assertEquals(sent, got);
        }
    }

    @Test
    void pushCommandToAnUnknownDeviceIsNotConnected() {
        assertEquals(PushOutcome.NOT_CONNECTED, pushCommand(TestBrokers.uniqueApp(), "nobody", push(5, "{}")));
    }

    @Test
    void commandsArePipelinedAndEachGetsItsResult() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = connected(app, "r1")) {
            long base = correlation.addAndGet(100) - 100;
            for (int i = 1; i <= 20; i++) {
                logic.send(new Frame.PushCommand(base + i, app, i % 2 == 0 ? "r1" : "absent", push(100 + i, "{}")));
            }
            Map<Long, PushOutcome> outcomes = new java.util.HashMap<>();
            for (int i = 0; i < 20; i++) {
                Frame.PushResult r = logic.expect(Frame.PushResult.class);
                outcomes.put(r.correlationId(), r.outcome());
            }
            for (int i = 1; i <= 20; i++) {
                assertEquals(i % 2 == 0 ? PushOutcome.WRITTEN : PushOutcome.NOT_CONNECTED, outcomes.get(base + i), "command " + i);
            }
            for (int i = 2; i <= 20; i += 2) {
                assertEquals(100 + i, device.expect(Frame.Push.class).msgId());
            }
        }
    }

    @Test
    void deviceFramesOnTheInternalPortAreAProtocolViolation() {
        try (FrameClient node = FrameClient.internal(broker.internalAddress())) {
            node.send(new Frame.Connect("a", "r", "t", 0));
            node.expectDisconnect(ReasonCode.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void internalFramesOnTheDevicePortAreAProtocolViolation() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = connected(app, "r1")) {
            device.send(new Frame.PushCommand(1, app, "r1", push(6, "{}")));
            device.expectDisconnect(ReasonCode.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void deviceAckIsPublishedToTheAckTopic() {
        String app = TestBrokers.uniqueApp();
        long msgId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        try (FrameClient device = connected(app, "r1")) {
            assertEquals(PushOutcome.WRITTEN, pushCommand(app, "r1", push(msgId, "{}"))); // only a written msgId's ack counts
            device.expect(Frame.Push.class);
            device.send(new Frame.Ack(msgId));
            AckRecord ack = AckTopic.firstAckOf(app, AWAIT);
            assertEquals(new AckRecord(app, "r1", msgId, ack.ackedAtMillis(), broker.id()), ack);
            assertTrue(Math.abs(System.currentTimeMillis() - ack.ackedAtMillis()) < 60_000, "acked at " + ack.ackedAtMillis());
        }
    }

    @Test
    void queuedMessagesAreDeliveredRightAfterConnAckOldestFirst() {
        String app = TestBrokers.uniqueApp();
        MessageRepository messages = new MessageRepository(redis,
                new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
        // The device has connected before (known), and is offline now.
        redis.async().set(Keys.device(app, "r1"), "1").toCompletableFuture().join();
        long now = System.currentTimeMillis();
        long base = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
        for (int i = 0; i < 3; i++) {
            AcceptResult r = messages.accept(new NewMessage(base + i, app, "r1", PayloadKind.NOTIFICATION,
                    "{\"n\":" + i + "}", now - 3000 + i * 1000L, now + 60_000, null, null, null)).join();
            assertTrue(r.created(), "accepted " + r);
        }
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.connect(app, "r1", TestBrokers.token(app, "r1"));
            for (int i = 0; i < 3; i++) {
                Frame.Push p = device.expect(Frame.Push.class);
                assertEquals(base + i, p.msgId());
                assertEquals(PayloadKind.NOTIFICATION, p.kind());
                assertArrayEquals(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8), p.payload());
                assertEquals(now + 60_000, p.expiresAtMillis());
            }
            for (int i = 0; i < 3; i++) {
                long id = base + i;
                await().atMost(AWAIT).until(() -> messages.find(id).join().status() == MessageStatus.SENT);
            }
        }
    }

    @Test
    void webSocketDeviceAuthenticatesAndReceivesAPush() {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = FrameClient.webSocket(broker.wsAddress())) {
            device.connect(app, "web", TestBrokers.token(app, "web"));
            await().atMost(AWAIT).until(() -> route(app, "web") != null);
            Frame.Push sent = push(7, "{\"over\":\"websocket\"}");
            assertEquals(PushOutcome.WRITTEN, pushCommand(app, "web", sent));
            assertEquals(sent, device.expect(Frame.Push.class));
            device.send(Frame.Ping.INSTANCE);
            device.expect(Frame.Pong.class);
        }
    }

    @Test
    void webSocketGarbageIsRefusedWithItsReason() {
        try (FrameClient device = FrameClient.webSocket(broker.wsAddress())) {
            device.sendRaw(new byte[]{9, 9, 9, 9, 9, 9, 9, 9});
            device.expectDisconnect(ReasonCode.UNSUPPORTED_VERSION);
        }
    }

    @Test
    void plainHttpOnTheWebSocketPortIsNotFound() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + broker.wsAddress().getPort() + "/elsewhere"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, r.statusCode());
        assertTrue(r.body().contains("/v1/ws"), r.body());
    }

    @Test
    void brokerIsInTheRegistryWithItsBoundAddresses() {
        List<BrokerInfo> live = new BrokerRegistry(redis).live().join();
        BrokerInfo me = live.stream().filter(b -> b.id().equals(broker.id())).findFirst()
                .orElseThrow(() -> new AssertionError(broker.id() + " not in " + live));
        assertEquals("127.0.0.1:" + broker.tcpAddress().getPort(), me.tcpAddress());
        assertEquals("ws://127.0.0.1:" + broker.wsAddress().getPort() + "/v1/ws", me.wsAddress());
        assertEquals("127.0.0.1:" + broker.internalAddress().getPort(), me.internalAddress());
        assertEquals("local", me.region());
    }

    @Test
    void healthIsUpAndMetricsShowConnections() throws Exception {
        String app = TestBrokers.uniqueApp();
        try (FrameClient device = connected(app, "r1")) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            String base = "http://127.0.0.1:" + broker.adminAddress().getPort();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            assertTrue(health.body().contains("\"UP\""), health.body());
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("tern_broker_connections"), "no connections gauge in /metrics");
            assertTrue(metrics.body().contains("tern_broker_frames_in_total"), "no frame counters in /metrics");
            assertTrue(broker.connectionCount() >= 1, "connectionCount " + broker.connectionCount());
        }
    }
}
