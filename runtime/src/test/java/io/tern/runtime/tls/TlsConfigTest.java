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
    void inDevModeOffWithPlainByDefault() {
        TlsConfig c = TlsConfig.from(Settings.empty(), "broker", true);
        assertFalse(c.enabled());
        assertTrue(c.plain());
        assertNull(ServerTls.of(c, false, "test"), "no TLS handler when off");
    }

    @Test
    void outsideDevModePlainIsOffByDefault(@TempDir Path dir) throws Exception {
        Path chain = Files.writeString(dir.resolve("chain.pem"), "x");
        Path key = Files.writeString(dir.resolve("key.pem"), "x");
        TlsConfig c = TlsConfig.from(Settings.of(Map.of("broker.tls.enabled", "true", "broker.tls.cert-chain",
                chain.toString(), "broker.tls.private-key", key.toString())), "broker", false);
        assertTrue(c.enabled());
        assertFalse(c.plain());

        assertTrue(TlsConfig.from(Settings.of(Map.of("broker.tls.plain", "true")), "broker", false).plain(),
                "plain on when asked for");
    }

    @Test
    void outsideDevModeWithoutTlsTheMessageSaysHowToFixIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> TlsConfig.from(Settings.empty(), "dispatcher", false));
        assertTrue(e.getMessage().startsWith("dispatcher.tls.plain is false (its default outside dispatcher.dev-mode)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("configure TLS (dispatcher.tls.enabled=true with dispatcher.tls.cert-chain "
                + "and dispatcher.tls.private-key) or set dispatcher.tls.plain=true"), e.getMessage());
    }

    @Test
    void readsTheRolesKeys(@TempDir Path dir) throws Exception {
        Path chain = Files.writeString(dir.resolve("chain.pem"), "x");
        Path key = Files.writeString(dir.resolve("key.pem"), "x");
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        TlsConfig c = TlsConfig.from(Settings.of(Map.of("logic.tls.enabled", "true", "logic.tls.cert-chain", chain.toString(),
                "logic.tls.private-key", key.toString(), "logic.tls.ca", ca.toString(), "logic.tls.plain", "false")), "logic", true);
        assertEquals(new TlsConfig(true, chain, key, ca, false), c);
    }

    @Test
    void enabledWithoutACertificateNamesTheMissingKey() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TlsConfig.from(Settings.of(Map.of("broker.tls.enabled", "true")), "broker", true));
        assertTrue(e.getMessage().startsWith("broker.tls.cert-chain"), e.getMessage());
    }

    @Test
    void anUnreadableFileIsRefused(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> TlsConfig.from(Settings.of(Map.of(
                "dispatcher.tls.enabled", "true", "dispatcher.tls.cert-chain", dir.resolve("absent.pem").toString(),
                "dispatcher.tls.private-key", dir.resolve("absent.key").toString())), "dispatcher", true));
        assertTrue(e.getMessage().contains("dispatcher.tls.cert-chain is not a readable file"), e.getMessage());
    }

    @Test
    void plainOffNeedsTlsOn() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TlsConfig.from(Settings.of(Map.of("broker.tls.plain", "false")), "broker", true));
        assertTrue(e.getMessage().startsWith("broker.tls.plain is false (as set) and broker.tls.enabled is false"),
                e.getMessage());
        assertTrue(e.getMessage().contains("set broker.tls.plain=true"), e.getMessage());
    }
}
