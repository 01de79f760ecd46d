package io.tern.runtime.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.tern.runtime.config.ConfigException;

import javax.net.ssl.SSLException;

/**
 * Netty {@link SslContext}s for the roles. The provider is OpenSSL (BoringSSL from
 * netty-tcnative-boringssl-static) where its native library loads, the JDK's engine otherwise.
 */
public final class TlsContexts {
    private TlsContexts() {
    }

    /** OPENSSL when netty-tcnative loaded on this platform, else JDK. */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** What {@link #provider()} is, with the library version or why OpenSSL is not used, for the start-up log. */
    public static String describeProvider() {
        return OpenSsl.isAvailable() ? "OPENSSL (" + OpenSsl.versionString() + ")"
                : "JDK (OpenSSL unavailable: " + OpenSsl.unavailabilityCause() + ")";
    }

    /**
     * @param requireClientCertificate ask for and verify a client certificate signed by {@code config.ca()}
     */
    public static SslContext server(TlsConfig config, boolean requireClientCertificate) {
        ConfigException.require(!requireClientCertificate || config.ca() != null,
                "client certificates can only be required with tls.ca set");
        try {
            SslContextBuilder b = SslContextBuilder.forServer(config.certChain().toFile(), config.privateKey().toFile())
                    .sslProvider(provider());
            if (requireClientCertificate) {
                b.trustManager(config.ca().toFile()).clientAuth(ClientAuth.REQUIRE);
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("cannot load TLS certificate " + config.certChain() + " and key " + config.privateKey()
                    + ": " + e.getMessage());
        }
    }

    /**
     * The client side of an internal link: the peer is verified against {@code config.ca()} (the
     * JDK trust store when none) with host name verification; the role's own certificate is
     * presented when it has one (the broker's internal port may require it).
     */
    public static SslContext client(TlsConfig config) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider())
                    .endpointIdentificationAlgorithm("HTTPS");
            if (config.ca() != null) {
                b.trustManager(config.ca().toFile());
            }
            if (config.enabled()) {
                b.keyManager(config.certChain().toFile(), config.privateKey().toFile());
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("cannot build the TLS client context from " + config + ": " + e.getMessage());
        }
    }
}
