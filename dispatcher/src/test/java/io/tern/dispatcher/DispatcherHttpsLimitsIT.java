package io.tern.dispatcher;

import io.tern.devstack.DevCertificates;
import io.tern.devstack.SharedInfra;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP limits (request deadline, connection cap) on a dispatcher that serves HTTPS only: the
 * TLS handler sits in front of the connection guard, so its 408 and 503 reach the client encrypted,
 * and a connection that never finishes its TLS handshake is closed at the request deadline.
 */
class DispatcherHttpsLimitsIT {
    private static final int READ_TIMEOUT_MS = 15_000;

    @TempDir
    Path certDir;

    private Dispatcher start(Map<String, String> limits) {
        DevCertificates certs = DevCertificates.ensure(certDir);
        Map<String, String> s = new HashMap<>(certs.settings("dispatcher"));
        s.put("dispatcher.tls.plain", "false");
        s.put("dispatcher.port", "0");
        s.put("dispatcher.redis-uri", SharedInfra.redis().uri());
        s.put("dispatcher.dev-mode", "true");
        s.putAll(limits);
        return Dispatcher.start(DispatcherConfig.from(Settings.of(s)));
    }

    private SSLSocket tls(Dispatcher d) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(DevCertificates.ensure(certDir).caCertificate())) {
            trust.setCertificateEntry("dev-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", d.address().getPort());
        s.setSoTimeout(READ_TIMEOUT_MS);
        return s;
    }

    /** Everything until the server closes the connection. */
    private static String readToEnd(Socket s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[1024];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
        } catch (SocketException reset) {
            // closed by the server right after its answer
        }
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void aConnectionOverTheCapIsAnswered503OverTls() throws Exception {
        try (Dispatcher d = start(Map.of("dispatcher.http-max-connections", "1",
                "dispatcher.http-max-idle-connections", "1", "dispatcher.http-request-deadline", "30s"));
             SSLSocket first = tls(d)) {
            first.startHandshake(); // holds the only place: the server admitted it before answering its handshake
            // Connected only now, so the two cannot race for the place on different event loops.
            try (SSLSocket second = tls(d)) {
                second.startHandshake(); // the refused connection is still read until its handshake is done
                String answer = readToEnd(second);

                assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
                assertTrue(answer.contains("\"code\":\"server_busy\""), answer);
            }
        }
    }

    @Test
    void anHttpsConnectionWithoutARequestGets408OverTlsAtTheDeadline() throws Exception {
        try (Dispatcher d = start(Map.of("dispatcher.http-request-deadline", "1s"));
             SSLSocket s = tls(d)) {
            s.startHandshake();

            String answer = readToEnd(s);

            assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
            assertTrue(answer.contains("\"code\":\"request_timeout\""), answer);
        }
    }

    @Test
    void aConnectionThatNeverStartsItsTlsHandshakeIsClosedAtTheDeadline() throws Exception {
        // Netty's own TLS handshake timeout is 10 s: the read timeout below is shorter, so only the
        // 1 s request deadline can close this connection in time.
        try (Dispatcher d = start(Map.of("dispatcher.http-request-deadline", "1s"));
             Socket s = new Socket("127.0.0.1", d.address().getPort())) {
            s.setSoTimeout(8_000);
            int first;
            try {
                first = s.getInputStream().read();
            } catch (SocketTimeoutException stillOpen) {
                throw new AssertionError("not closed at the 1 s request deadline", stillOpen);
            } catch (SocketException reset) {
                first = -1;
            }
            assertEquals(-1, first, "closed without an answer (there is no TLS channel to answer on)");
        }
    }
}
