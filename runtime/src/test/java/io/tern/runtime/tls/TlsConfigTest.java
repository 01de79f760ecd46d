package io.tern.runtime.tls;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TlsConfigTest {

    @Test
    void offWithPlainByDefault() {
        TlsConfig c = TlsConfig.from(Settings.empty(), "broker");
        assertFalse(c.enabled());
        assertTrue(c.plain());
        assertNull(ServerTls.of(c, false, "test"), "no TLS handler when off");
    }

    @Test
    void readsTheRolesKeys(@TempDir Path dir) throws Exception {
        Path chain = Files.writeString(dir.resolve("chain.pem"), "x");
        Path key = Files.writeString(dir.resolve("key.pem"), "x");
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        TlsConfig c = TlsConfig.from(Settings.of(Map.of("logic.tls.enabled", "true", "logic.tls.cert-chain", chain.toString(),
                "logic.tls.private-key", key.toString(), "logic.tls.ca", ca.toString(), "logic.tls.plain", "false")), "logic");
        assertEquals(new TlsConfig(true, chain, key, ca, false), c);
    }

    @Test
    void enabledWithoutACertificateNamesTheMissingKey() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TlsConfig.from(Settings.of(Map.of("broker.tls.enabled", "true")), "broker"));
        assertTrue(e.getMessage().startsWith("broker.tls.cert-chain"), e.getMessage());
    }

    @Test
    void anUnreadableFileIsRefused(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> TlsConfig.from(Settings.of(Map.of(
                "dispatcher.tls.enabled", "true", "dispatcher.tls.cert-chain", dir.resolve("absent.pem").toString(),
                "dispatcher.tls.private-key", dir.resolve("absent.key").toString())), "dispatcher"));
        assertTrue(e.getMessage().contains("dispatcher.tls.cert-chain is not a readable file"), e.getMessage());
    }

    @Test
    void plainOffNeedsTlsOn() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TlsConfig.from(Settings.of(Map.of("broker.tls.plain", "false")), "broker"));
        assertTrue(e.getMessage().contains("broker.tls.plain=false needs tls.enabled=true"), e.getMessage());
    }
}
