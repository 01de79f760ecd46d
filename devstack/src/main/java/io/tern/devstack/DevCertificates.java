package io.tern.devstack;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Dev mode's TLS material: a self-signed CA and one certificate it signs for {@code localhost},
 * {@code 127.0.0.1} and {@code ::1} (server and client use, so the internal links' mutual TLS
 * works with it too). Created on first use in a directory and reused while the certificate is valid
 * for at least another day. EC P-256 keys: small and quick to handshake. Never for production.
 *
 * @param caCertificate    PEM CA certificate: what devices and roles trust
 * @param certificateChain PEM leaf then CA
 * @param privateKey       PEM PKCS#8 key of the leaf
 */
public record DevCertificates(Path caCertificate, Path certificateChain, Path privateKey) {
    private static final Logger log = LoggerFactory.getLogger(DevCertificates.class);
    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    static final Duration LEAF_VALIDITY = Duration.ofDays(365);
    private static final Duration REUSE_MARGIN = Duration.ofDays(1);

    /** The files in {@code dir}, created (or renewed when about to expire) if needed. */
    public static synchronized DevCertificates ensure(Path dir) {
        return ensure(dir, Clock.systemUTC());
    }

    static synchronized DevCertificates ensure(Path dir, Clock clock) {
        DevCertificates files = new DevCertificates(dir.resolve("ca.pem"), dir.resolve("server-chain.pem"),
                dir.resolve("server-key.pem"));
        if (files.usableAt(clock.instant().plus(REUSE_MARGIN))) {
            log.info("dev TLS: reusing the CA and certificate in {}", dir);
            return files;
        }
        try {
            Files.createDirectories(dir);
            files.generate(clock.instant());
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot create dev TLS certificates in " + dir, e);
        }
        log.info("dev TLS: created a CA and a certificate for localhost / 127.0.0.1 in {}", dir);
        return files;
    }

    /** The keys a role reads to serve TLS with these files ({@code <role>.tls.*}), plain still accepted. */
    public Map<String, String> settings(String role) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(role + ".tls.enabled", "true");
        m.put(role + ".tls.cert-chain", certificateChain.toString());
        m.put(role + ".tls.private-key", privateKey.toString());
        m.put(role + ".tls.ca", caCertificate.toString());
        return m;
    }

    /** The leaf certificate as read from {@link #certificateChain}. */
    public X509Certificate leaf() {
        try (InputStream in = Files.newInputStream(certificateChain)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read " + certificateChain, e);
        }
    }

    private boolean usableAt(Instant when) {
        if (!Files.isReadable(caCertificate) || !Files.isReadable(certificateChain) || !Files.isReadable(privateKey)) {
            return false;
        }
        try {
            leaf().checkValidity(Date.from(when));
            return true;
        } catch (GeneralSecurityException | IllegalStateException e) {
            return false;
        }
    }

    private void generate(Instant now) throws IOException, GeneralSecurityException, OperatorCreationException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        KeyPair caKeys = gen.generateKeyPair();
        KeyPair leafKeys = gen.generateKeyPair();
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        // Back-dated a little so a peer whose clock is slightly behind accepts it.
        Date from = Date.from(now.minus(Duration.ofHours(1)));

        X500Name caName = new X500Name("CN=Tern dev CA");
        X509v3CertificateBuilder ca = new JcaX509v3CertificateBuilder(caName, serial(), from,
                Date.from(now.plus(CA_VALIDITY)), caName, caKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(caKeys.getPublic()));
        X509Certificate caCert = convert(ca.build(signer(caKeys)));

        X509v3CertificateBuilder leaf = new JcaX509v3CertificateBuilder(caCert, serial(), from,
                Date.from(now.plus(LEAF_VALIDITY)), new X500Name("CN=localhost"), leafKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(new KeyPurposeId[]{KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                        new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.iPAddress, "::1")}))
                .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(leafKeys.getPublic()));
        X509Certificate leafCert = convert(leaf.build(signer(caKeys)));

        // Key first: a chain without its key is never taken for usable by a later start.
        writePrivate(privateKey, pem("PRIVATE KEY", leafKeys.getPrivate().getEncoded()));
        Files.writeString(caCertificate, pem("CERTIFICATE", caCert.getEncoded()), StandardCharsets.US_ASCII);
        Files.writeString(certificateChain, pem("CERTIFICATE", leafCert.getEncoded()) + pem("CERTIFICATE", caCert.getEncoded()),
                StandardCharsets.US_ASCII);
    }

    private static BigInteger serial() {
        return new BigInteger(128, new SecureRandom());
    }

    private static ContentSigner signer(KeyPair keys) throws OperatorCreationException {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
    }

    private static X509Certificate convert(X509CertificateHolder holder) throws GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void writePrivate(Path file, String content) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, content, StandardCharsets.US_ASCII);
    }
}
