package io.tern.protocol.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.token.ConnectToken;
import io.tern.protocol.token.ConnectTokenSigner;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Connect-token parsing as a broker does it for every CONNECT: any string gives a verdict (never an
 * exception), a token it did not sign is never valid, and a token it signed verifies to exactly its
 * claims, while any single changed character never yields other claims.
 * Regression inputs: src/test/resources/io/tern/protocol/fuzz/ConnectTokenFuzzTestInputs/.
 */
class ConnectTokenFuzzTest {
    private static final ConnectTokenSigner SIGNER =
            new ConnectTokenSigner("fuzzing-secret-of-32-bytes-long!".getBytes(StandardCharsets.UTF_8));
    private static final long NOW = 1_000_000_000_000L;

    @FuzzTest(maxDuration = "15m", maxExecutions = 1_000_000)
    void anyStringGetsAVerdictAndForgeriesAreInvalid(FuzzedDataProvider data) {
        long now = data.consumeLong();
        String token = data.consumeRemainingAsString();
        ConnectTokenSigner.Verification v = SIGNER.verify(token, now);
        // Forging an HMAC-SHA256 by mutation is out of reach, and the expiry is only read after the
        // signature checks out: anything but TOKEN_INVALID without claims would be a bug.
        assertEquals(ReasonCode.TOKEN_INVALID, v.reason(), "verdict " + v);
        assertNull(v.claims());
    }

    @FuzzTest(maxDuration = "15m", maxExecutions = 1_000_000)
    void signedClaimsVerifyAndTamperingNeverYieldsOtherClaims(FuzzedDataProvider data) {
        ConnectToken claims = new ConnectToken(data.consumeString(200), data.consumeString(200),
                data.consumeString(64), data.consumeLong(NOW + 1, Long.MAX_VALUE));
        String token;
        try {
            token = SIGNER.sign(claims);
        } catch (IllegalArgumentException refused) {
            return; // a line feed in a claim or an over-long token: sign's documented refusal
        }
        ConnectTokenSigner.Verification v = SIGNER.verify(token, NOW);
        assertEquals(ReasonCode.OK, v.reason());
        assertEquals(claims, v.claims());

        int at = data.consumeInt(0, token.length() - 1);
        char replacement = data.consumeChar();
        String tampered = token.substring(0, at) + replacement + token.substring(at + 1);
        ConnectTokenSigner.Verification t = SIGNER.verify(tampered, NOW);
        if (t.claims() != null) {
            assertEquals(claims, t.claims(), "a changed token verified to other claims: " + tampered);
        }
    }
}
