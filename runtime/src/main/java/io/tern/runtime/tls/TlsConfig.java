package io.tern.runtime.tls;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS of one role's listeners (and of the links it opens), keys {@code <role>.tls.*}. One port
 * serves both TLS and, while {@code plain} is on, plain connections: the first bytes tell them apart.
 *
 * @param enabled    serve TLS; default false
 * @param certChain  PEM certificate chain, leaf first ({@code <role>.tls.cert-chain}); required when enabled
 * @param privateKey PEM PKCS#8 private key of the leaf ({@code <role>.tls.private-key}); required when enabled
 * @param ca         PEM CA certificate(s) ({@code <role>.tls.ca}): the roles' internal links verify peers
 *                   against it and the broker's internal port requires client certificates it signed;
 *                   null = the JDK's trust store, and no client certificates asked for
 * @param plain      also accept plain (non-TLS) connections on the same ports; default true in dev mode
 *                   ({@code <role>.dev-mode}) and false outside it, so a production config serves TLS or
 *                   says {@code <role>.tls.plain=true} on purpose
 */
public record TlsConfig(boolean enabled, Path certChain, Path privateKey, Path ca, boolean plain) {

    public static final TlsConfig OFF = new TlsConfig(false, null, null, null, true);

    public TlsConfig {
        if (enabled) {
            requireReadable("cert-chain", certChain);
            requireReadable("private-key", privateKey);
        }
        if (ca != null) {
            requireReadable("ca", ca);
        }
        ConfigException.require(enabled || plain,
                "tls.plain=false needs tls.enabled=true: otherwise the ports would accept nothing");
    }

    /**
     * Reads {@code <role>.tls.enabled}, {@code .cert-chain}, {@code .private-key}, {@code .ca}, {@code .plain}.
     *
     * @param devMode the role's {@code <role>.dev-mode}: the default of {@code plain}
     */
    public static TlsConfig from(Settings s, String role, boolean devMode) {
        String p = role + ".tls.";
        boolean enabled = s.bool(p + "enabled", false);
        boolean plain = s.bool(p + "plain", devMode);
        ConfigException.require(enabled || plain, p + "plain is false (" + (devMode ? "as set" : "its default outside "
                + role + ".dev-mode") + ") and " + p + "enabled is false, so the ports would accept nothing: configure TLS ("
                + p + "enabled=true with " + p + "cert-chain and " + p + "private-key) or set " + p + "plain=true to serve "
                + "plain connections");
        try {
            return new TlsConfig(enabled, path(s.string(p + "cert-chain", null)),
                    path(s.string(p + "private-key", null)), path(s.string(p + "ca", null)), plain);
        } catch (ConfigException e) {
            throw new ConfigException(role + "." + e.getMessage());
        }
    }

    private static Path path(String v) {
        return v == null ? null : Path.of(v);
    }

    private static void requireReadable(String key, Path file) {
        ConfigException.require(file != null, "tls." + key + " is required when tls.enabled=true");
        ConfigException.require(Files.isReadable(file), "tls." + key + " is not a readable file: " + file);
    }

    @Override
    public String toString() {
        return enabled ? "TlsConfig[on, certChain=" + certChain + ", ca=" + ca + ", plain=" + plain + ']' : "TlsConfig[off]";
    }
}
