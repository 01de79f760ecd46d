package io.tern.logic.auth;

import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * App-server authentication. {@code POST /v1/auth} proves the app holds its secret (sign =
 * hex HMAC-SHA256 of appId+appKey+timestamp keyed with the secret, timestamp within the allowed
 * skew) and gets a stateless auth token: {@code base64url(appId \n expiresAt) "." base64url(hmac)},
 * so checking it on every call needs no store round trip. An app server reuses its token for every call,
 * so verified tokens are remembered (up to {@code cacheSize}, an arbitrary one forgotten when full) and the
 * HMAC is not redone per request; their expiry is still checked on every call.
 */
public final class AppAuthenticator {
    private final Function<String, AppCredentials> apps;
    private final byte[] tokenKey;
    private final Duration tokenTtl;
    private final Duration clockSkew;
    private final LongSupplier clock;
    private final int cacheSize;
    private final Map<String, Verified> verified = new ConcurrentHashMap<>();

    private record Verified(String appId, long expiresAt) {
    }

    /**
     * @param apps      an app's credentials by appId, null when unknown (looked up per call: apps and secrets change
     *                  at run time through the SRE admin API)
     * @param cacheSize verified tokens remembered; 0 verifies every call
     */
    public AppAuthenticator(Function<String, AppCredentials> apps, String tokenSecret, Duration tokenTtl,
                            Duration clockSkew, int cacheSize, LongSupplier clockMillis) {
        this.apps = apps;
        this.tokenKey = tokenSecret.getBytes(StandardCharsets.UTF_8);
        this.tokenTtl = tokenTtl;
        this.clockSkew = clockSkew;
        this.cacheSize = cacheSize;
        this.clock = clockMillis;
    }

    public record IssuedToken(String authToken, long expiresAt) {
    }

    /** The {@code sign} of {@code POST /v1/auth}: lowercase hex HMAC-SHA256 of appId + appKey + timestamp, keyed with the app secret. */
    public static String sign(String appId, String appKey, long timestamp, String appSecret) {
        return Hmac.sha256Hex(appSecret, (appId + appKey + timestamp).getBytes(StandardCharsets.UTF_8));
    }

    public IssuedToken authenticate(String appId, String appKey, long timestamp, String sign) {
        AppCredentials app = apps.apply(appId);
        long now = clock.getAsLong();
        if (app == null || !MessageDigest.isEqual(app.appKey().getBytes(StandardCharsets.UTF_8),
                appKey.getBytes(StandardCharsets.UTF_8))) {
            throw PushException.unauthorized("unknown appId or appKey");
        }
        if (Math.abs(now - timestamp) > clockSkew.toMillis()) {
            throw PushException.unauthorized("timestamp is more than " + clockSkew.toMinutes()
                    + " minutes from server time " + now);
        }
        byte[] expected = Hmac.sha256(app.appSecret(), appId + appKey + timestamp);
        byte[] given;
        try {
            given = HexFormat.of().parseHex(sign);
        } catch (IllegalArgumentException e) {
            throw PushException.unauthorized("sign is not hex");
        }
        if (!MessageDigest.isEqual(expected, given)) {
            throw PushException.unauthorized("bad sign");
        }
        long expiresAt = now + tokenTtl.toMillis();
        String claims = appId + '\n' + expiresAt;
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        byte[] claimBytes = claims.getBytes(StandardCharsets.UTF_8);
        return new IssuedToken(b64.encodeToString(claimBytes) + '.' + b64.encodeToString(Hmac.sha256(tokenKey, claimBytes)),
                expiresAt);
    }

    /** @return the appId the token was issued to; 401 when missing, forged or expired */
    public String verify(String authToken) {
        if (authToken == null || authToken.isEmpty()) {
            throw PushException.unauthorized("missing authToken header");
        }
        Verified known = verified.get(authToken);
        if (known != null) {
            if (known.expiresAt() <= clock.getAsLong()) {
                verified.remove(authToken);
                throw PushException.unauthorized("authToken expired");
            }
            return known.appId();
        }
        int dot = authToken.indexOf('.');
        if (dot <= 0 || authToken.length() > 512) {
            throw PushException.unauthorized("malformed authToken");
        }
        try {
            Base64.Decoder b64 = Base64.getUrlDecoder();
            byte[] claimBytes = b64.decode(authToken.substring(0, dot));
            byte[] sig = b64.decode(authToken.substring(dot + 1));
            if (!MessageDigest.isEqual(sig, Hmac.sha256(tokenKey, claimBytes))) {
                throw PushException.unauthorized("bad authToken signature");
            }
            String claims = new String(claimBytes, StandardCharsets.UTF_8);
            int nl = claims.indexOf('\n');
            String appId = claims.substring(0, nl);
            long expiresAt = Long.parseLong(claims.substring(nl + 1));
            if (expiresAt <= clock.getAsLong()) {
                throw PushException.unauthorized("authToken expired");
            }
            if (apps.apply(appId) == null) {
                throw PushException.unauthorized("app no longer provisioned");
            }
            remember(authToken, new Verified(appId, expiresAt));
            return appId;
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw PushException.unauthorized("malformed authToken");
        }
    }

    private void remember(String token, Verified v) {
        if (cacheSize == 0) {
            return;
        }
        if (verified.size() >= cacheSize) {
            Iterator<String> any = verified.keySet().iterator();
            if (any.hasNext()) {
                any.next();
                any.remove();
            }
        }
        verified.put(token, v);
    }

    /** Tokens remembered now (for tests). */
    int cachedTokens() {
        return verified.size();
    }
}
