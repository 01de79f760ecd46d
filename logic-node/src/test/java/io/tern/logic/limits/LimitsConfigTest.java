package io.tern.logic.limits;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LimitsConfigTest {

    @Test
    void perAppOverridesFallBackToTheDefaultsForWhatTheyDoNotSet() {
        LimitsConfig c = LimitsConfig.from(Settings.of(Map.of(
                "logic.limits.default-rate", "200",
                "logic.limits.apps.big.rate", "5000",
                "logic.limits.apps.big.daily-quota", "99",
                "logic.limits.apps.com.example.app.daily-quota", "7")));
        assertEquals(new LimitsConfig.AppLimit(5000, 99), c.forApp("big"));
        assertEquals(new LimitsConfig.AppLimit(200, 7), c.forApp("com.example.app"), "appIds may contain dots");
        assertEquals(new LimitsConfig.AppLimit(200, LimitsConfig.DEFAULT_DAILY_QUOTA), c.forApp("other"));
    }

    @Test
    void unknownOrBadOverridesAreRejectedNamingTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> LimitsConfig.from(Settings.of(Map.of(
                "logic.limits.apps.a.rte", "5"))));
        assertEquals("logic.limits.apps.a.rte: unknown limit 'rte' (rate, daily-quota)", e.getMessage());
        assertThrows(ConfigException.class, () -> LimitsConfig.from(Settings.of(Map.of("logic.limits.apps.a.rate", "0"))));
        assertThrows(ConfigException.class, () -> LimitsConfig.from(Settings.of(Map.of("logic.limits.apps.a.rate", "x"))));
        assertThrows(ConfigException.class, () -> LimitsConfig.from(Settings.of(Map.of("logic.limits.default-daily-quota", "0"))));
    }

    @Test
    void leaseSettingsAreReadValidatedAndSizeTheRateBlock() {
        LimitsConfig c = LimitsConfig.from(Settings.of(Map.of(
                "logic.limits.rate-lease-percent", "10",
                "logic.limits.quota-lease-max", "500",
                "logic.limits.lease-ttl", "250ms",
                "logic.limits.deny-hold", "0ms",
                "logic.limits.max-waiting", "7")));
        assertEquals(10, c.rateLeasePercent());
        assertEquals(500, c.quotaLeaseMax());
        assertEquals(java.time.Duration.ofMillis(250), c.leaseTtl());
        assertEquals(java.time.Duration.ZERO, c.denyHold());
        assertEquals(7, c.maxWaiting());
        assertEquals(100, c.rateBlock(1000));
        assertEquals(1, c.rateBlock(5), "at least one request per lease");
        assertThrows(ConfigException.class, () -> LimitsConfig.from(Settings.of(Map.of("logic.limits.rate-lease-percent", "0"))));
        assertThrows(ConfigException.class, () -> LimitsConfig.from(Settings.of(Map.of("logic.limits.deny-hold", "2s"))));
    }
}
