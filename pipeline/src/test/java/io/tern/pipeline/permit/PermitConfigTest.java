package io.tern.pipeline.permit;

import io.tern.pipeline.buffer.BufferConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PermitConfigTest {

    @Test
    void eachRoleReadsItsOwnPrefixWithDefaults() {
        assertEquals(PermitConfig.defaults(), PermitConfig.from(Settings.empty(), "logic"));
        PermitConfig p = PermitConfig.from(Settings.of(Map.of("bypass.permit.hold-last", "30s",
                "bypass.permit.fallback-rate", "200", "logic.permit.fallback-rate", "9")), "bypass");
        assertEquals(Duration.ofSeconds(30), p.holdLast());
        assertEquals(200, p.fallbackRate());
        assertEquals(Duration.ofSeconds(10), PermitConfig.defaults().holdLast());
    }

    @Test
    void outOfRangeValuesAreRefused() {
        assertThrows(ConfigException.class, () -> PermitConfig.from(Settings.of(Map.of("logic.permit.fallback-rate", "0")), "logic"));
        assertThrows(ConfigException.class, () -> PermitConfig.from(Settings.of(Map.of("logic.permit.fallback-rate", "-5")), "logic"));
        assertThrows(ConfigException.class, () -> PermitConfig.from(Settings.of(Map.of("logic.permit.obeyer-ttl", "600ms")), "logic"),
                "a registration must outlive two refreshes");
        assertThrows(ConfigException.class, () -> PermitConfig.from(Settings.of(Map.of("logic.permit.hold-last", "100ms")), "logic"),
                "hold-last shorter than the poll would fall back between two reads");
    }

    @Test
    void bufferKeysAreReadWithDefaultsAndBoundsChecked() {
        assertEquals(BufferConfig.defaults(), BufferConfig.from(Settings.empty(), "logic"));
        assertEquals(5, BufferConfig.from(Settings.of(Map.of("logic.buffer.max-backlog", "5")), "logic").maxBacklog());
        assertThrows(ConfigException.class, () -> BufferConfig.from(Settings.of(Map.of("logic.buffer.max-in-flight", "6")), "logic"),
                "more than 5 in flight loses the idempotent producer's order");
        assertThrows(ConfigException.class, () -> BufferConfig.from(Settings.of(Map.of("logic.buffer.send-timeout", "100ms")), "logic"));
    }
}
