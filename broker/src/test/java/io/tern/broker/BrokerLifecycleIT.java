package io.tern.broker;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.route.RouteRepository;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Limits and lifecycle: connection cap, idle timeout, shutdown. Each test starts its own broker. */
class BrokerLifecycleIT {
    private static final Duration AWAIT = Duration.ofSeconds(10);
    private static RedisStore redis;

    @BeforeAll
    static void connect() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
    }

    @AfterAll
    static void disconnect() {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void overMaxConnectionsNewSocketsGetServerBusy() {
        try (Broker broker = Broker.start(TestBrokers.config(Map.of("broker.max-connections", "1")))) {
            String app = TestBrokers.uniqueApp();
            FrameClient first = FrameClient.tcp(broker.tcpAddress());
            first.connect(app, "r1", TestBrokers.token(app, "r1"));
            try (FrameClient second = FrameClient.tcp(broker.tcpAddress())) {
                second.expectDisconnect(ReasonCode.SERVER_BUSY);
            }
            try (FrameClient webSocket = FrameClient.webSocket(broker.wsAddress())) {
                webSocket.expectDisconnect(ReasonCode.SERVER_BUSY);
            }
            first.close();
            await().atMost(AWAIT).until(() -> broker.connectionCount() == 0);
            try (FrameClient third = FrameClient.tcp(broker.tcpAddress())) {
                third.connect(app, "r3", TestBrokers.token(app, "r3"));
            }
        }
    }

    @Test
    void aSilentDeviceIsDisconnectedAfterTheIdleTimeout() {
        try (Broker broker = Broker.start(TestBrokers.config(Map.of("broker.heartbeat", "1s", "broker.idle-timeout", "1200ms")))) {
            String app = TestBrokers.uniqueApp();
            try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
                Frame.ConnAck ack = device.connect(app, "r1", TestBrokers.token(app, "r1"));
                assertEquals(1, ack.heartbeatSeconds());
                device.expectDisconnect(ReasonCode.IDLE_TIMEOUT);
            }
        }
    }

    @Test
    void aPingingDeviceIsNotIdle() {
        try (Broker broker = Broker.start(TestBrokers.config(Map.of("broker.heartbeat", "1s", "broker.idle-timeout", "1200ms")))) {
            String app = TestBrokers.uniqueApp();
            try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
                device.connect(app, "r1", TestBrokers.token(app, "r1"));
                for (int i = 0; i < 4; i++) {
                    device.expectSilence(Duration.ofMillis(500));
                    device.send(Frame.Ping.INSTANCE);
                    device.expect(Frame.Pong.class);
                }
                assertTrue(device.isOpen());
            }
        }
    }

    @Test
    void closeRedirectsDevicesDeregistersAndDeletesRoutes() {
        Broker broker = Broker.start(TestBrokers.config(Map.of()));
        String id = broker.id();
        String app = TestBrokers.uniqueApp();
        RouteRepository routes = new RouteRepository(redis);
        BrokerRegistry registry = new BrokerRegistry(redis);
        assertTrue(registry.live().join().stream().anyMatch(b -> b.id().equals(id)), "listed right after start");

        FrameClient device = FrameClient.tcp(broker.tcpAddress());
        device.connect(app, "r1", TestBrokers.token(app, "r1"));
        await().atMost(AWAIT).until(() -> routes.get(app, "r1").join() != null);

        broker.close();

        // The paced drain comes first: the device is sent on (to the region's other brokers, if any live).
        assertEquals(ReasonCode.SERVER_SHUTTING_DOWN, device.expect(Frame.Redirect.class).reason());
        assertFalse(registry.live().join().stream().anyMatch(b -> b.id().equals(id)), "still listed after close");
        assertEquals(null, routes.get(app, "r1").join(), "route left behind");
        broker.close(); // idempotent
    }

    @Test
    void closeWithoutAShutdownRedirectDisconnectsDevicesAtOnce() {
        Broker broker = Broker.start(TestBrokers.config(Map.of("broker.shutdown-redirect-max", "0s")));
        String app = TestBrokers.uniqueApp();
        FrameClient device = FrameClient.tcp(broker.tcpAddress());
        device.connect(app, "r1", TestBrokers.token(app, "r1"));

        broker.close();

        device.expectDisconnect(ReasonCode.SERVER_SHUTTING_DOWN);
    }
}
