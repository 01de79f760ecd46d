package io.tern.logic.config;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogicConfigTest {

    @Test
    void theDevelopmentAuthTokenAndClusterSecretsRefuseToStartOutsideDevMode() {
        // Plain HTTP on explicitly: outside dev mode it is off by default (see the test below).
        ConfigException e = assertThrows(ConfigException.class,
                () -> LogicConfig.from(Settings.of(Map.of("logic.tls.plain", "true"))));
        assertTrue(e.getMessage().contains("logic.auth-token-secret is the development secret"), e.getMessage());

        assertTrue(LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true"))).devMode());
        ConfigException cluster = assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.auth-token-secret", "a-production-auth-token-secret", "logic.tls.plain", "true"))));
        assertTrue(cluster.getMessage().contains("logic.cluster-secret is the development secret"), cluster.getMessage());
        LogicConfig production = LogicConfig.from(Settings.of(Map.of(
                "logic.auth-token-secret", "a-production-auth-token-secret",
                "logic.cluster-secret", "a-production-cluster-secret", "logic.tls.plain", "true")));
        assertFalse(production.devMode());
    }

    @Test
    void outsideDevModePlainHttpIsOffSoAConfigWithoutTlsSaysHowToFixIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.auth-token-secret", "a-production-auth-token-secret"))));
        assertTrue(e.getMessage().contains("logic.tls.enabled=true"), e.getMessage());
        assertTrue(e.getMessage().contains("set logic.tls.plain=true"), e.getMessage());

        assertTrue(LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true"))).tls().plain(),
                "dev mode keeps plain HTTP on");
    }

    @Test
    void aRedeliveryCheckOrLeaseNoLongerThanTheReplyTimeoutIsRefusedItWouldSendAPushStillInFlightAgain() {
        LogicConfig c = LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true")));
        assertTrue(c.redelivery().checkDelay().compareTo(c.brokerReplyTimeout()) > 0, "the defaults fit together");
        ConfigException check = assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.dev-mode", "true", "logic.broker-reply-timeout", "5s", "logic.redelivery.check-delay", "5s"))));
        assertTrue(check.getMessage().contains("logic.redelivery.check-delay"), check.getMessage());
        ConfigException lease = assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.dev-mode", "true", "logic.broker-reply-timeout", "2s", "logic.redelivery.lease", "2s"))));
        assertTrue(lease.getMessage().contains("logic.redelivery.lease"), lease.getMessage());
        assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.dev-mode", "true", "logic.redelivery.max-attempts", "0"))), "attempts are bounded and at least one");
    }

    @Test
    void nodeIdIsLeasedAutomaticallyByDefaultOrGivenAsANumber() {
        assertEquals(LogicConfig.AUTO_NODE_ID, LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true"))).nodeId());
        assertEquals(7, LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true", "logic.node-id", "7"))).nodeId());
        assertThrows(ConfigException.class,
                () -> LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true", "logic.node-id", "1024"))));
        assertThrows(ConfigException.class,
                () -> LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true", "logic.node-id", "first"))));
    }

    @Test
    void anOutboxSmallerThanOneAckApplyCallIsRefusedThatCallCouldNeverPark() {
        ConfigException e = assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.dev-mode", "true", "logic.receipt-apply-max", "100", "logic.callback.outbox-max", "99"))));
        assertTrue(e.getMessage().contains("logic.callback.outbox-max"), e.getMessage());
        assertEquals(100, LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true", "logic.receipt-apply-max", "100",
                "logic.callback.outbox-max", "100"))).callback().outbox().max());
    }

    @Test
    void theAdminApiIsOffWithoutAnSreTokenAndAGivenTokenIsCheckedAndNeverPrinted() {
        LogicConfig off = LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true")));
        assertEquals(null, off.sreToken());
        ConfigException shortToken = assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.dev-mode", "true", "logic.sre-token", "too-short"))));
        assertTrue(shortToken.getMessage().contains("logic.sre-token"), shortToken.getMessage());

        LogicConfig on = LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true",
                "logic.sre-token", "the-sre-token-0123456789")));
        assertEquals("the-sre-token-0123456789", on.sreToken().value());
        assertFalse(Settings.describe(on).contains("the-sre-token-0123456789"), "the config is logged at start");

        assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.dev-mode", "true", "logic.apps-refresh", "10ms"))));
        assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                "logic.dev-mode", "true", "logic.apps-max", "0"))));
    }

    @Test
    void theRecentTasksKeptDefaultToAThousandAndAreChecked() {
        assertEquals(1000, LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true"))).recentTasks());
        assertEquals(50, LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true", "logic.recent-tasks", "50")))
                .recentTasks());
        for (String bad : new String[]{"0", "100001", "many"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> LogicConfig.from(Settings.of(Map.of(
                    "logic.dev-mode", "true", "logic.recent-tasks", bad))), bad);
            assertTrue(e.getMessage().contains("logic.recent-tasks"), e.getMessage());
        }
    }
}
