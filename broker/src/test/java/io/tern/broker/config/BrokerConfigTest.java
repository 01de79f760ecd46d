package io.tern.broker.config;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BrokerConfigTest {

    private static BrokerConfig with(Map<String, String> values) {
        Map<String, String> dev = new HashMap<>(values);
        dev.putIfAbsent("broker.dev-mode", "true");
        return BrokerConfig.from(Settings.of(dev));
    }

    @Test
    void outageModeDefaultsToTwoSecondsWithoutADiskKvAndRefusesABadDiskKvUriNamingTheKey() {
        BrokerConfig.StorageOutage o = BrokerConfig.defaults().storageOutage();
        assertEquals(Duration.ofSeconds(2), o.redisOutageAfter());
        assertFalse(o.hasDiskKv());
        BrokerConfig c = with(Map.of("broker.disk-kv-uri", "redis://:pw@127.0.0.1:6666", "broker.redis-outage-after",
                "500ms"));
        assertTrue(c.storageOutage().hasDiskKv());
        assertEquals(Duration.ofMillis(500), c.storageOutage().redisOutageAfter());
        assertFalse(c.toString().contains("pw"), c.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> with(Map.of("broker.disk-kv-uri", "http://x")));
        assertTrue(e.getMessage().contains("broker.disk-kv-uri"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> with(Map.of("broker.redis-outage-after", "10ms")));
        assertTrue(e.getMessage().contains("broker.redis-outage-after"), e.getMessage());
    }

    @Test
    void shutdownRedirectsAtAThousandASecondForAtMostTwentySecondsAndRefusesABadRateNamingTheKey() {
        assertEquals(new BrokerConfig.ShutdownRedirect(1000, Duration.ofSeconds(20)), BrokerConfig.defaults().shutdownRedirect());
        assertEquals(new BrokerConfig.ShutdownRedirect(50, Duration.ZERO),
                with(Map.of("broker.shutdown-redirect-rate", "50", "broker.shutdown-redirect-max", "0s")).shutdownRedirect());
        ConfigException e = assertThrows(ConfigException.class, () -> with(Map.of("broker.shutdown-redirect-rate", "0")));
        assertTrue(e.getMessage().contains("broker.shutdown-redirect-rate"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> with(Map.of("broker.shutdown-redirect-max", "11m")));
        assertTrue(e.getMessage().contains("broker.shutdown-redirect-max"), e.getMessage());
    }

    @Test
    void defaultsRunOnOneMachine() {
        BrokerConfig c = BrokerConfig.defaults();
        assertEquals("b1", c.id());
        assertEquals("local", c.region());
        assertEquals("127.0.0.1", c.host());
        assertEquals(9001, c.tcpPort());
        assertEquals(9101, c.wsPort());
        assertEquals(9201, c.internalPort());
        assertEquals(9301, c.adminPort());
        assertEquals("redis://127.0.0.1:6390", c.redisUri());
        assertEquals("127.0.0.1:9092", c.kafkaBootstrap());
        assertEquals(Duration.ofSeconds(10), c.handshakeTimeout());
        assertEquals(30, c.heartbeatSeconds());
        assertEquals(Duration.ofSeconds(90), c.idleTimeout());
        assertEquals(8192, c.maxFrameBody());
        assertEquals(19_000, c.maxConnections());
        assertEquals(Duration.ofMillis(500), c.livenessInterval());
        assertEquals(20_000, c.capacity());
        assertEquals(Duration.ofSeconds(3), c.livenessTtl());
        assertEquals(new BrokerConfig.Recovery(Duration.ofMillis(500), 5, Duration.ofMillis(250), 500, 20_000),
                c.recovery());
        assertEquals(100, c.pendingLimit());
        assertEquals(100_000, c.ackQueueCapacity());
        assertEquals(Duration.ofMillis(50), c.ackLinger());
        assertEquals(1024, c.ackCountCapacity());
        assertEquals(Duration.ofSeconds(60), c.ackCountWindow());
        assertEquals(Duration.ofMillis(100), c.ackCountInterval());
        assertEquals(Duration.ofSeconds(2), c.shutdownDrain());
        assertEquals(64, c.broadcastQueue());
        assertTrue(c.effectiveIoThreads() >= 1);
        assertTrue(c.usesDevTokenSecret());
        assertTrue(c.devMode());
    }

    @Test
    void theDevelopmentTokenAndClusterSecretsRefuseToStartOutsideDevMode() {
        // Plain on explicitly: outside dev mode it is off by default (see the test below).
        ConfigException e = assertThrows(ConfigException.class,
                () -> BrokerConfig.from(Settings.of(Map.of("broker.tls.plain", "true"))));
        assertTrue(e.getMessage().contains("broker.token-secret is the development secret"), e.getMessage());
        assertThrows(ConfigException.class, () -> with(Map.of("broker.dev-mode", "false", "broker.tls.plain", "true")));
        assertThrows(ConfigException.class, () -> with(Map.of("broker.dev-mode", "maybe")));

        ConfigException cluster = assertThrows(ConfigException.class, () -> with(Map.of("broker.dev-mode", "false",
                "broker.token-secret", "a-production-secret-0123", "broker.tls.plain", "true")));
        assertTrue(cluster.getMessage().contains("broker.cluster-secret is the development secret"), cluster.getMessage());

        BrokerConfig production = with(Map.of("broker.dev-mode", "false", "broker.token-secret", "a-production-secret-0123",
                "broker.cluster-secret", "a-production-cluster-secret", "broker.tls.plain", "true"));
        assertFalse(production.devMode());
        assertFalse(production.usesDevTokenSecret());
        assertTrue(production.tls().plain());
    }

    @Test
    void outsideDevModePlainListenersAreOffSoAConfigWithoutTlsSaysHowToFixIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> with(Map.of("broker.dev-mode", "false",
                "broker.token-secret", "a-production-secret-0123")));
        assertTrue(e.getMessage().contains("broker.tls.enabled=true"), e.getMessage());
        assertTrue(e.getMessage().contains("set broker.tls.plain=true"), e.getMessage());

        assertTrue(BrokerConfig.defaults().tls().plain(), "dev mode keeps plain listeners on");
        assertFalse(BrokerConfig.defaults().tls().enabled());
    }

    @Test
    void environmentVariablesOverrideDefaults() {
        Settings s = Settings.load(null, Map.of("TERN_BROKER_TCP_PORT", "7001", "TERN_BROKER_IDLE_TIMEOUT", "2m",
                "TERN_BROKER_ID", "north-1", "TERN_BROKER_DEV_MODE", "true"), Map.of());
        BrokerConfig c = BrokerConfig.from(s);
        assertEquals(7001, c.tcpPort());
        assertEquals(Duration.ofMinutes(2), c.idleTimeout());
        assertEquals("north-1", c.id());
    }

    @Test
    void idleTimeoutMustExceedTheHeartbeat() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> with(Map.of("broker.heartbeat", "30s", "broker.idle-timeout", "30s")));
        assertTrue(e.getMessage().contains("broker.idle-timeout"), e.getMessage());
    }

    @Test
    void ackDeliveryIsReadAndItsTimeoutMustLeaveRoomForTheLinger() {
        BrokerConfig c = with(Map.of("broker.ack-delivery-timeout", "10s", "broker.ack-retry-backoff", "250ms"));
        assertEquals(Duration.ofSeconds(10), c.ackDelivery().deliveryTimeout());
        assertEquals(Duration.ofMillis(250), c.ackDelivery().retryBackoff());
        ConfigException e = assertThrows(ConfigException.class,
                () -> with(Map.of("broker.ack-linger", "5s", "broker.ack-delivery-timeout", "5s")));
        assertTrue(e.getMessage().contains("broker.ack-delivery-timeout"), e.getMessage());
    }

    @Test
    void regionSettingsHaveOneMachineDefaultsAndAreChecked() {
        BrokerConfig.Regions d = BrokerConfig.defaults().regions();
        assertEquals(Duration.ofMillis(500), d.policyPoll());
        assertEquals(2000, d.admissionRate());
        assertEquals(200, d.admissionBurst());
        assertEquals(Duration.ofSeconds(1), d.busyRetryHint());
        BrokerConfig.Regions r = with(Map.of("broker.admission-rate", "0", "broker.busy-retry-hint", "250ms",
                "broker.redirect-batch-max", "50")).regions();
        assertEquals(0, r.admissionRate(), "0 = uncapped");
        assertEquals(Duration.ofMillis(250), r.busyRetryHint());
        assertEquals(50, r.redirectBatchMax());
        ConfigException e = assertThrows(ConfigException.class, () -> with(Map.of("broker.admission-burst", "0")));
        assertTrue(e.getMessage().contains("broker.admission-burst"), e.getMessage());
        assertThrows(ConfigException.class, () -> with(Map.of("broker.admission-rate", "-1")));
        assertThrows(ConfigException.class, () -> with(Map.of("broker.region-move-tick", "2s")));
    }

    @Test
    void livenessTtlMustExceedTheInterval() {
        assertThrows(ConfigException.class,
                () -> with(Map.of("broker.liveness-interval", "5s", "broker.liveness-ttl", "5s")));
    }

    @Test
    void recoveryBoundsAreChecked() {
        assertThrows(ConfigException.class, () -> with(Map.of("broker.route-write-attempts", "0")));
        assertThrows(ConfigException.class, () -> with(Map.of("broker.route-write-backoff", "0ms")));
        assertThrows(ConfigException.class, () -> with(Map.of("broker.redis-reconnect-max", "1ms")));
        ConfigException e = assertThrows(ConfigException.class,
                () -> with(Map.of("broker.route-restore-batch", "1000", "broker.route-restore-rate", "999")));
        assertTrue(e.getMessage().contains("broker.route-restore-rate"), e.getMessage());
    }

    @Test
    void aShortTokenSecretIsRefused() {
        assertThrows(ConfigException.class, () -> with(Map.of("broker.token-secret", "short")));
    }

    @Test
    void badValuesAreRefusedWithTheirKey() {
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.tcp-port", "70000")))
                .getMessage().contains("broker.tcp-port"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.max-frame-body", "10")))
                .getMessage().contains("broker.max-frame-body"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.id", "has|bar")))
                .getMessage().contains("broker.id"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.redis-uri", "http://x")))
                .getMessage().contains("broker.redis-uri"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.ack-queue-capacity", "0")))
                .getMessage().contains("broker.ack-queue-capacity"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.broadcast-queue", "0")))
                .getMessage().contains("broker.broadcast-queue"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.tcp-port", "9000", "broker.ws-port", "9000")))
                .getMessage().contains("must differ"));
    }

    @Test
    void theAckCountIntervalMustBeShorterThanItsWindow() {
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.ack-count-interval", "2s",
                "broker.ack-count-window", "1s"))).getMessage().contains("broker.ack-count-interval"));
        assertEquals(0, with(Map.of("broker.ack-count-capacity", "0")).ackCountCapacity(), "0 turns counting off");
    }

    @Test
    void portZeroMayRepeatForTests() {
        BrokerConfig c = with(Map.of("broker.tcp-port", "0", "broker.ws-port", "0", "broker.internal-port", "0",
                "broker.admin-port", "0"));
        assertEquals(0, c.tcpPort());
    }

    @Test
    void describeNeverShowsTheSecretOrARedisPassword() {
        BrokerConfig c = with(Map.of("broker.token-secret", "a-very-secret-value-123",
                "broker.redis-uri", "redis://:hunter2hunter2@redis.internal:6379"));
        String described = Settings.describe(c);
        assertFalse(described.contains("a-very-secret-value-123"), described);
        assertFalse(described.contains("hunter2"), described);
        assertTrue(described.contains("redis.internal:6379"), described);
    }

    @Test
    void everyListenerBindsAndIsAdvertisedOnTheHostUnlessSetApart() {
        BrokerConfig one = with(Map.of("broker.host", "10.0.0.5"));
        assertEquals(BrokerConfig.Listeners.allOn("10.0.0.5"), one.listeners());
        assertEquals(BrokerConfig.Listeners.allOn("127.0.0.1"), BrokerConfig.defaults().listeners());

        BrokerConfig apart = with(Map.of("broker.tcp-bind", "0.0.0.0", "broker.ws-bind", "0.0.0.0",
                "broker.internal-bind", "10.1.0.7", "broker.admin-bind", "10.1.0.7",
                "broker.advertised-device-host", "b1.push.example.com", "broker.advertised-internal-host", "10.1.0.7"));
        assertEquals(new BrokerConfig.Listeners("0.0.0.0", "0.0.0.0", "10.1.0.7", "10.1.0.7", "b1.push.example.com",
                "10.1.0.7"), apart.listeners());
    }

    @Test
    void aWildcardIsNeverAdvertised() {
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.host", "0.0.0.0")))
                .getMessage().contains("broker.advertised-device-host"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.advertised-internal-host", "::")))
                .getMessage().contains("broker.advertised-internal-host"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.internal-bind", " ")))
                .getMessage().contains("broker.internal-bind"));
    }

    @Test
    void theClusterSecretIsLongEnoughAndNeverDescribed() {
        assertTrue(BrokerConfig.defaults().internalLink().usesDevSecret());
        assertEquals(Duration.ofSeconds(5), BrokerConfig.defaults().internalLink().authTimeout());
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.cluster-secret", "short")))
                .getMessage().contains("broker.cluster-secret"));
        BrokerConfig c = with(Map.of("broker.cluster-secret", "the-cluster-secret-xyz-42"));
        assertFalse(c.internalLink().usesDevSecret());
        assertFalse(Settings.describe(c).contains("the-cluster-secret-xyz-42"), Settings.describe(c));
        assertFalse(c.toString().contains("the-cluster-secret-xyz-42"), c.toString());
    }

    @Test
    void maxUnackedCoversWhatOneConnectMayWrite() {
        assertEquals(256, BrokerConfig.defaults().ackTracking().maxUnacked());
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.max-unacked", "150")))
                .getMessage().contains("broker.pending-limit + broker.catchup-limit"));
        assertEquals(10, with(Map.of("broker.max-unacked", "10", "broker.pending-limit", "5",
                "broker.catchup-limit", "5", "broker.max-acks-per-frame", "5")).ackTracking().maxUnacked());
    }

    @Test
    void broadcastAcksDefaultToHalfASecondAndSixtyFourPerFrame() {
        BrokerConfig.BroadcastAcks acks = BrokerConfig.defaults().broadcastAcks();
        assertEquals(java.time.Duration.ofMillis(500), acks.delay());
        assertEquals(64, acks.maxPerFrame());
        assertEquals(0, with(Map.of("broker.broadcast-ack-delay", "0ms")).broadcastAcks().delayMillis());
    }

    @Test
    void broadcastAcksAreBoundedByTheWireAndByMaxUnacked() {
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.broadcast-ack-delay", "66s")))
                .getMessage().contains("broker.broadcast-ack-delay"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.max-acks-per-frame", "513")))
                .getMessage().contains("broker.max-acks-per-frame"));
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.max-acks-per-frame", "8",
                "broker.max-frame-body", "64"))).getMessage().contains("broker.max-frame-body"));
        // A device holds up to max-acks-per-frame acks: the broker must still know those msgIds when they come.
        assertTrue(assertThrows(ConfigException.class, () -> with(Map.of("broker.max-acks-per-frame", "129")))
                .getMessage().contains("twice broker.max-acks-per-frame"));
        assertEquals(129, with(Map.of("broker.max-acks-per-frame", "129", "broker.broadcast-ack-delay", "0ms"))
                .broadcastAcks().maxPerFrame(), "no limit to keep while devices hold no acks");
    }
}
