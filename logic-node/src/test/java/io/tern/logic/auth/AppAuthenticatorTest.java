package io.tern.logic.auth;

import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AppAuthenticatorTest {
    private final AtomicLong now = new AtomicLong(1_800_000_000_000L);
    private final AppAuthenticator auth = new AppAuthenticator(
            Map.of("demo", new AppCredentials("demo", "demo-key", "demo-secret"))::get,
            "0123456789abcdef-token-secret", Duration.ofHours(24), Duration.ofMinutes(5), 2, now::get);

    static String sign(String appId, String appKey, long ts, String secret) {
        return HexFormat.of().formatHex(Hmac.sha256(secret, appId + appKey + ts));
    }

    @Test
    void aCorrectSignatureGetsATokenThatVerifiesToTheApp() {
        long ts = now.get() - 60_000;
        AppAuthenticator.IssuedToken t = auth.authenticate("demo", "demo-key", ts, sign("demo", "demo-key", ts, "demo-secret"));
        assertEquals(now.get() + Duration.ofHours(24).toMillis(), t.expiresAt());
        assertEquals("demo", auth.verify(t.authToken()));
    }

    @Test
    void wrongSecretIs401() {
        long ts = now.get();
        PushException e = assertThrows(PushException.class,
                () -> auth.authenticate("demo", "demo-key", ts, sign("demo", "demo-key", ts, "other-secret")));
        assertEquals(PushError.UNAUTHORIZED, e.error());
    }

    @Test
    void timestampOutsideFiveMinutesIs401EvenWithAValidSignature() {
        long stale = now.get() - Duration.ofMinutes(5).toMillis() - 1;
        assertEquals(PushError.UNAUTHORIZED, assertThrows(PushException.class,
                () -> auth.authenticate("demo", "demo-key", stale, sign("demo", "demo-key", stale, "demo-secret"))).error());
        long future = now.get() + Duration.ofMinutes(6).toMillis();
        assertEquals(PushError.UNAUTHORIZED, assertThrows(PushException.class,
                () -> auth.authenticate("demo", "demo-key", future, sign("demo", "demo-key", future, "demo-secret"))).error());
    }

    @Test
    void unknownAppOrKeyIs401() {
        long ts = now.get();
        assertEquals(PushError.UNAUTHORIZED, assertThrows(PushException.class,
                () -> auth.authenticate("nope", "demo-key", ts, sign("nope", "demo-key", ts, "demo-secret"))).error());
        assertEquals(PushError.UNAUTHORIZED, assertThrows(PushException.class,
                () -> auth.authenticate("demo", "bad-key", ts, sign("demo", "bad-key", ts, "demo-secret"))).error());
    }

    @Test
    void expiredForgedOrMissingTokensAre401() {
        long ts = now.get();
        String token = auth.authenticate("demo", "demo-key", ts, sign("demo", "demo-key", ts, "demo-secret")).authToken();
        String forged = token.substring(0, token.length() - 2) + (token.endsWith("AA") ? "BB" : "AA");
        assertEquals(PushError.UNAUTHORIZED, assertThrows(PushException.class, () -> auth.verify(forged)).error());
        assertEquals(PushError.UNAUTHORIZED, assertThrows(PushException.class, () -> auth.verify(null)).error());
        assertEquals(PushError.UNAUTHORIZED, assertThrows(PushException.class, () -> auth.verify("garbage")).error());
        now.addAndGet(Duration.ofHours(24).toMillis());
        assertEquals(PushError.UNAUTHORIZED, assertThrows(PushException.class, () -> auth.verify(token)).error());
    }

    private String token(long ts) {
        return auth.authenticate("demo", "demo-key", ts, sign("demo", "demo-key", ts, "demo-secret")).authToken();
    }

    @Test
    void aRememberedTokenStillExpires() {
        String token = token(now.get());
        assertEquals("demo", auth.verify(token));
        assertEquals(1, auth.cachedTokens());
        now.addAndGet(Duration.ofHours(24).toMillis());
        assertEquals("authToken expired", assertThrows(PushException.class, () -> auth.verify(token)).getMessage());
        assertEquals(0, auth.cachedTokens(), "an expired token is forgotten");
    }

    @Test
    void onlyVerifiedTokensAreRememberedAndTheCacheStaysWithinItsSize() {
        String token = token(now.get());
        String forged = token.substring(0, token.length() - 2) + (token.endsWith("AA") ? "BB" : "AA");
        assertThrows(PushException.class, () -> auth.verify(forged));
        assertEquals(0, auth.cachedTokens());
        for (int i = 0; i < 5; i++) {
            assertEquals("demo", auth.verify(token(now.incrementAndGet()))); // a new expiry: a new token
        }
        assertEquals(2, auth.cachedTokens());
        assertEquals("demo", auth.verify(token), "a forgotten token is verified again");
    }
}
