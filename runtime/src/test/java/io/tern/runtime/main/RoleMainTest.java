package io.tern.runtime.main;

import io.tern.runtime.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RoleMainTest {
    @Test
    void configFileComesFromTheFlagTheLonePathOrNowhere() {
        assertEquals(Path.of("a.properties"), RoleMain.configFile(new String[]{"--config", "a.properties"}));
        assertEquals(Path.of("b.properties"), RoleMain.configFile(new String[]{"--config=b.properties"}));
        assertEquals(Path.of("c.properties"), RoleMain.configFile(new String[]{"c.properties"}));
        assertNull(RoleMain.configFile(new String[0]));
    }

    @Test
    void aMissingFileNameOrAStrayArgumentIsAConfigurationError() {
        assertThrows(ConfigException.class, () -> RoleMain.configFile(new String[]{"--config"}));
        assertThrows(ConfigException.class, () -> RoleMain.configFile(new String[]{"--verbose", "x"}));
    }
}
