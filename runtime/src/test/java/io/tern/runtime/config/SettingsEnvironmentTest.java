package io.tern.runtime.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingsEnvironmentTest {

    @Test
    void aNestedKeyIsSetFromItsEnvironmentName() {
        Settings s = Settings.load(null, Map.of("TERN_BROKER_TLS_ENABLED", "true", "TERN_BROKER_TCP_PORT", "7001"), Map.of());
        assertTrue(s.bool("broker.tls.enabled", false));
        assertEquals(7001, s.integer("broker.tcp-port", 0));
        assertFalse(s.bool("broker.tls.plain", false), "an unset nested key keeps its default");
    }

    @Test
    void theEnvironmentWinsOverTheFileForNestedKeysToo() {
        Settings s = Settings.of(Map.of("logic.tls.plain", "false", "logic.tls-plain", "true"));
        assertTrue(s.bool("logic.tls.plain", false));
    }

    @Test
    void keysNoRecordReadAreListedWhetherGivenPlainOrNested() {
        Settings s = Settings.load(null, Map.of("TERN_BROKER_TLS_ENABLED", "true", "TERN_BROKER_TCP_PORT", "7001",
                "TERN_BROKER_TCP_PROT", "7002", "TERN_LOGIC_PORT", "8080"), Map.of());
        s.bool("broker.tls.enabled", false);
        s.integer("broker.tcp-port", 0);
        assertEquals(java.util.List.of("broker.tcp-prot"), s.unread("broker."));
    }
}
