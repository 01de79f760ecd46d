package io.tern.client;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;

/**
 * How a device verifies the platform: servers must present a certificate chain to one of the
 * trusted CAs and a name matching the host it dialled (host name verification, as HTTPS does).
 * With it a {@link TernClient} dispatches over HTTPS and connects to brokers over TLS (TCP) or
 * wss (WebSocket). Immutable and shareable: build it once and give it to every client.
 */
public final class ClientTls {
    private final SslContext netty;
    private final SSLContext jdk;
    private final String description;
    private volatile HttpClient http;

    private ClientTls(TrustManagerFactory trust, String description) throws GeneralSecurityException, IOException {
        this.netty = SslContextBuilder.forClient().trustManager(trust).endpointIdentificationAlgorithm("HTTPS").build();
        this.jdk = SSLContext.getInstance("TLS");
        jdk.init(null, trust.getTrustManagers(), null);
        this.description = description;
    }

    /**
     * Trusts only the CA certificates in a PEM file (e.g. the dev CA the local runner writes).
     *
     * @throws IllegalArgumentException when the file cannot be read or holds no certificate
     */
    public static ClientTls trusting(Path caPem) {
        try (InputStream in = Files.newInputStream(caPem)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("no certificate in " + caPem);
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return new ClientTls(tmf, "CA file " + caPem);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot load trusted CA certificates from " + caPem + ": " + e.getMessage(), e);
        }
    }

    /** Trusts the JDK's default CAs (public certificates). */
    public static ClientTls systemTrust() {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init((KeyStore) null);
            return new ClientTls(tmf, "JDK trust store");
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot load the JDK trust store", e);
        }
    }

    /** For broker connections (TCP and WebSocket). */
    public SslContext nettyContext() {
        return netty;
    }

    /** For the dispatcher over HTTPS. */
    public SSLContext jdkContext() {
        return jdk;
    }

    /** One HTTP/1.1 client per ClientTls for dispatches: its selector thread is costly. */
    HttpClient httpClient() {
        HttpClient h = http;
        if (h == null) {
            synchronized (this) {
                h = http;
                if (h == null) {
                    h = HttpClient.newBuilder()
                            .version(HttpClient.Version.HTTP_1_1)
                            .connectTimeout(ClientOptions.DEFAULT_CONNECT_TIMEOUT)
                            .sslContext(jdk)
                            .build();
                    http = h;
                }
            }
        }
        return h;
    }

    @Override
    public String toString() {
        return "ClientTls[" + description + "]";
    }
}
