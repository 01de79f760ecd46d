package io.tern.bypass.config;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BypassConfigTest {

    @Test
    void devModeDefaultsRunOnOneMachine() {
        BypassConfig c = BypassConfig.from(Settings.of(Map.of("bypass.dev-mode", "true")));
        assertEquals(8085, c.http().port());
        assertEquals("bp1", c.id());
        assertEquals(1000, c.drain().maxInFlightPerPartition());
        assertEquals(10_000, c.drain().maxInFlight());
        assertEquals(Duration.ofSeconds(1), c.drain().commitInterval());
        assertEquals(BypassConfig.AUTO_NODE_ID, c.nodeId());
    }

    @Test
    void portZeroPicksAFreePortSoSeveralRunOnOneMachine() {
        BypassConfig c = BypassConfig.from(Settings.of(Map.of("bypass.dev-mode", "true", "bypass.port", "0")));
        assertEquals(0, c.http().port());
    }

    @Test
    void drainKeysAreReadUnderBypass() {
        BypassConfig c = BypassConfig.from(Settings.of(Map.of("bypass.dev-mode", "true",
                "bypass.max-in-flight-per-partition", "50", "bypass.max-in-flight", "200", "bypass.poll-size", "20",
                "bypass.commit-interval", "250ms", "bypass.retry-attempts", "5",
                "bypass.redelivery.max-attempts", "4", "bypass.consumer.max-attempts", "2")));
        assertEquals(50, c.drain().maxInFlightPerPartition());
        assertEquals(200, c.drain().maxInFlight());
        assertEquals(20, c.drain().pollSize());
        assertEquals(Duration.ofMillis(250), c.drain().commitInterval());
        assertEquals(5, c.drain().retryAttempts());
        assertEquals(4, c.redelivery().maxAttempts());
        assertEquals(2, c.consumer().maxAttempts());
    }

    @Test
    void aTotalWindowSmallerThanOnePartitionsIsRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> BypassConfig.from(Settings.of(Map.of(
                "bypass.dev-mode", "true", "bypass.max-in-flight-per-partition", "500", "bypass.max-in-flight", "100"))));
        assertTrue(e.getMessage().contains("bypass.max-in-flight"), e.getMessage());
    }

    @Test
    void theDevelopmentClusterSecretNeedsDevMode() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> BypassConfig.from(Settings.of(Map.of("bypass.tls.plain", "true"))));
        assertTrue(e.getMessage().contains("bypass.cluster-secret"), e.getMessage());
    }
}
