package io.tern.devstack;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DevCertificatesTest {

    @Test
    void theLeafIsSignedByTheCaAndNamesLocalhostAnd127001(@TempDir Path dir) throws Exception {
        DevCertificates files = DevCertificates.ensure(dir.resolve("tls"));

        X509Certificate ca = read(files.caCertificate());
        X509Certificate leaf = files.leaf();
        leaf.verify(ca.getPublicKey());
        ca.verify(ca.getPublicKey());
        assertTrue(ca.getBasicConstraints() >= 0, "the CA certificate is a CA");
        assertEquals(-1, leaf.getBasicConstraints(), "the leaf is not a CA");
        Set<String> names = leaf.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1)))
                .collect(Collectors.toSet());
        assertTrue(names.containsAll(Set.of("localhost", "127.0.0.1")), "SANs " + names);
        assertTrue(leaf.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")),
                "server and client use, for the internal links' mutual TLS");
        assertTrue(Files.readString(files.privateKey()).startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
        assertEquals(2, Files.readString(files.certificateChain()).split("BEGIN CERTIFICATE").length - 1,
                "chain = leaf + CA");
    }

    @Test
    void aSecondStartReusesTheSameCertificates(@TempDir Path dir) throws Exception {
        DevCertificates first = DevCertificates.ensure(dir);
        byte[] ca = Files.readAllBytes(first.caCertificate());
        byte[] key = Files.readAllBytes(first.privateKey());

        DevCertificates second = DevCertificates.ensure(dir);

        assertArrayEquals(ca, Files.readAllBytes(second.caCertificate()));
        assertArrayEquals(key, Files.readAllBytes(second.privateKey()));
    }

    @Test
    void aCertificateAboutToExpireIsReplaced(@TempDir Path dir) throws Exception {
        DevCertificates first = DevCertificates.ensure(dir);
        byte[] ca = Files.readAllBytes(first.caCertificate());
        Clock nearExpiry = Clock.offset(Clock.systemUTC(), DevCertificates.LEAF_VALIDITY.minus(Duration.ofHours(1)));

        DevCertificates renewed = DevCertificates.ensure(dir, nearExpiry);

        assertFalse(java.util.Arrays.equals(ca, Files.readAllBytes(renewed.caCertificate())), "new material written");
        renewed.leaf().checkValidity(java.util.Date.from(nearExpiry.instant().plus(Duration.ofDays(2))));
    }

    @Test
    void settingsPointARoleAtTheFiles(@TempDir Path dir) {
        DevCertificates files = DevCertificates.ensure(dir);
        Map<String, String> s = files.settings("broker");
        assertEquals("true", s.get("broker.tls.enabled"));
        assertEquals(files.certificateChain().toString(), s.get("broker.tls.cert-chain"));
        assertEquals(files.privateKey().toString(), s.get("broker.tls.private-key"));
        assertEquals(files.caCertificate().toString(), s.get("broker.tls.ca"));
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }
}
