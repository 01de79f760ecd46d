package io.tern.protocol.token;

import io.tern.protocol.frame.ReasonCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConnectTokenSignerTest {
    private static final byte[] SECRET = "0123456789abcdef-secret".getBytes(StandardCharsets.US_ASCII);
    private static final long NOW = 1_700_000_000_000L;
    private static final ConnectToken CLAIMS = new ConnectToken("app-1", "reg-42", "north", NOW + 60_000);

    private final ConnectTokenSigner signer = new ConnectTokenSigner(SECRET);

    @Test
    void signedTokenVerifiesWithItsClaims() {
        ConnectTokenSigner.Verification v = signer.verify(signer.sign(CLAIMS), NOW);
        assertTrue(v.valid());
        assertEquals(ReasonCode.OK, v.reason());
        assertEquals(CLAIMS, v.claims());
    }

    @Test
    void unicodeClaimsRoundTrip() {
        ConnectToken claims = new ConnectToken("app-ü", "reg-日本", "east-👋", NOW + 1);
        assertEquals(claims, signer.verify(signer.sign(claims), NOW).claims());
    }

    @Test
    void tokenIsBase64UrlClaimsDotSignature() {
        String token = signer.sign(CLAIMS);
        String[] parts = token.split("\\.");
        assertEquals(2, parts.length);
        assertEquals("app-1\nreg-42\nnorth\n" + CLAIMS.expiresAtMillis(),
                new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
        assertEquals(32, Base64.getUrlDecoder().decode(parts[1]).length, "HMAC-SHA256");
        assertFalse(token.contains("="), "no padding");
    }

    @Test
    void anotherSignerWithTheSameSecretVerifies() {
        assertTrue(new ConnectTokenSigner(SECRET.clone()).verify(signer.sign(CLAIMS), NOW).valid());
    }

    @Test
    void tamperedClaimsAreInvalid() {
        String token = signer.sign(CLAIMS);
        String signature = token.substring(token.indexOf('.') + 1);
        String otherClaims = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("app-1\nreg-43\nnorth\n" + CLAIMS.expiresAtMillis()).getBytes(StandardCharsets.UTF_8));
        assertInvalid(signer.verify(otherClaims + "." + signature, NOW));

        String longerLife = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("app-1\nreg-42\nnorth\n" + Long.MAX_VALUE).getBytes(StandardCharsets.UTF_8));
        assertInvalid(signer.verify(longerLife + "." + signature, NOW));
    }

    @Test
    void tamperedSignatureIsInvalid() {
        String token = signer.sign(CLAIMS);
        int sigStart = token.indexOf('.') + 1;
        char c = token.charAt(sigStart);
        String tampered = token.substring(0, sigStart) + (c == 'A' ? 'B' : 'A') + token.substring(sigStart + 1);
        assertInvalid(signer.verify(tampered, NOW));

        assertInvalid(signer.verify(token.substring(0, token.length() - 4), NOW)); // truncated signature
    }

    @Test
    void tokenSignedWithAnotherSecretIsInvalid() {
        ConnectTokenSigner other = new ConnectTokenSigner("another-secret-of-16+".getBytes(StandardCharsets.US_ASCII));
        assertInvalid(signer.verify(other.sign(CLAIMS), NOW));
    }

    @Test
    void expiredTokenIsRejectedButItsClaimsAreReadable() {
        String token = signer.sign(CLAIMS);
        assertTrue(signer.verify(token, CLAIMS.expiresAtMillis() - 1).valid());

        ConnectTokenSigner.Verification atExpiry = signer.verify(token, CLAIMS.expiresAtMillis());
        assertEquals(ReasonCode.TOKEN_EXPIRED, atExpiry.reason());
        assertFalse(atExpiry.valid());
        assertEquals(CLAIMS, atExpiry.claims());

        assertEquals(ReasonCode.TOKEN_EXPIRED, signer.verify(token, CLAIMS.expiresAtMillis() + 86_400_000L).reason());
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {".", "abc", "abc.", ".abc", "a.b", "!!!!.####", "a.b.c", "GET / HTTP/1.1",
            "YXBw.c2ln" /* valid base64url, wrong signature */})
    void garbageIsInvalid(String token) {
        assertInvalid(signer.verify(token, NOW));
    }

    @Test
    void tooLongTokenIsInvalid() {
        String token = signer.sign(CLAIMS);
        assertInvalid(signer.verify(token + "A".repeat(1025 - token.length()), NOW));
        assertInvalid(signer.verify("A".repeat(100_000) + "." + "B".repeat(43), NOW));
    }

    @Test
    void signedClaimsWithoutExpiryNumberAreInvalid() {
        // A token with valid signature over claims the verifier cannot parse is still invalid.
        byte[] claims = "app\nreg\nnorth\nsoon".getBytes(StandardCharsets.UTF_8);
        String forged = resign(claims);
        assertInvalid(signer.verify(forged, NOW));
    }

    @Test
    void signRefusesClaimsTheVerifierCouldNeverAccept() {
        assertThrows(IllegalArgumentException.class,
                () -> signer.sign(new ConnectToken("app\n1", "reg", "north", NOW + 1)));
        assertThrows(IllegalArgumentException.class,
                () -> signer.sign(new ConnectToken("app", "reg\n", "north", NOW + 1)));
        assertThrows(IllegalArgumentException.class,
                () -> signer.sign(new ConnectToken("app", "reg", "\nnorth", NOW + 1)));
        assertThrows(IllegalArgumentException.class,
                () -> signer.sign(new ConnectToken("app", "r".repeat(800), "north", NOW + 1)));
    }

    @Test
    void longestSignableTokenStillVerifies() {
        // claims of n bytes -> ceil(4n/3) chars + '.' + 43 signature chars <= 1024
        String regId = "r".repeat(700);
        ConnectToken claims = new ConnectToken("app", regId, "north", NOW + 1);
        String token = assertDoesNotThrow(() -> signer.sign(claims));
        assertTrue(token.length() <= 1024);
        assertEquals(claims, signer.verify(token, NOW).claims());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15})
    void secretShorterThan16BytesIsRejected(int length) {
        assertThrows(IllegalArgumentException.class, () -> new ConnectTokenSigner(new byte[length]));
    }

    @Test
    void nullSecretIsRejectedAnd16BytesIsEnough() {
        assertThrows(IllegalArgumentException.class, () -> new ConnectTokenSigner(null));
        assertDoesNotThrow(() -> new ConnectTokenSigner(new byte[16]));
    }

    @Test
    void secretIsCopiedSoLaterChangesToTheCallersArrayDoNotMatter() {
        byte[] secret = SECRET.clone();
        ConnectTokenSigner s = new ConnectTokenSigner(secret);
        String token = s.sign(CLAIMS);
        secret[0] ^= 0x7F;
        assertTrue(s.verify(token, NOW).valid());
    }

    private String resign(byte[] claims) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(SECRET, "HmacSHA256"));
            Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
            return b64.encodeToString(claims) + "." + b64.encodeToString(mac.doFinal(claims));
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertInvalid(ConnectTokenSigner.Verification v) {
        assertEquals(ReasonCode.TOKEN_INVALID, v.reason());
        assertFalse(v.valid());
        assertNull(v.claims());
        assertFalse(v.detail().isEmpty());
    }
}
