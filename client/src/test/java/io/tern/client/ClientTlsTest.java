package io.tern.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientTlsTest {

    @Test
    void aFileWithoutCertificatesIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClientTls.trusting(empty));
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
    }

    @Test
    void aFileThatIsNotPemIsRefused(@TempDir Path dir) throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.pem"), "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        assertThrows(IllegalArgumentException.class, () -> ClientTls.trusting(junk));
        assertThrows(IllegalArgumentException.class, () -> ClientTls.trusting(dir.resolve("absent.pem")));
    }

    @Test
    void theSystemTrustStoreGivesBothContexts() {
        ClientTls tls = ClientTls.systemTrust();
        assertNotNull(tls.nettyContext());
        assertNotNull(tls.jdkContext());
        assertTrue(tls.nettyContext().isClient());
    }
}
