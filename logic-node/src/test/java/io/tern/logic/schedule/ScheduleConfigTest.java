package io.tern.logic.schedule;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ScheduleConfigTest {

    @Test
    void defaultsRescanEvery5sAndAcceptUpTo7DaysAhead() {
        ScheduleConfig c = ScheduleConfig.from(Settings.empty());
        assertEquals(Duration.ofSeconds(5), c.rescan());
        assertEquals(Duration.ofDays(7), c.maxAhead());
        assertEquals(c.fireTimeout().multipliedBy(2), c.claimLease());
    }

    @Test
    void lookaheadMustCoverTheRescanInterval() {
        assertThrows(ConfigException.class, () -> ScheduleConfig.from(Settings.of(Map.of(
                "logic.schedule.rescan", "10s", "logic.schedule.lookahead", "10s"))));
    }

    @Test
    void peakFloorsDefaultToFourReplicasFromTenMinutesBeforeToThirtyAfterForOver100kDevices() {
        ScheduleConfig c = ScheduleConfig.from(Settings.empty());
        assertEquals(100_000, c.peakThreshold());
        assertEquals(4, c.peakReplicas());
        assertEquals(Duration.ofMinutes(10), c.peakLead());
        assertEquals(Duration.ofMinutes(30), c.peakHold());
        assertEquals(8, ScheduleConfig.from(Settings.of(Map.of("logic.schedule.peak-replicas", "8"))).peakReplicas());
        assertThrows(ConfigException.class, () -> ScheduleConfig.from(Settings.of(Map.of(
                "logic.schedule.peak-replicas", "0"))));
        assertThrows(ConfigException.class, () -> ScheduleConfig.from(Settings.of(Map.of(
                "logic.schedule.peak-threshold", "0"))));
    }
}
