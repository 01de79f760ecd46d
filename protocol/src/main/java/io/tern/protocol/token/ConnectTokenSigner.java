package io.tern.protocol.token;

import io.tern.protocol.crypto.HmacSha256;
import io.tern.protocol.frame.ReasonCode;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * Signs and verifies connect tokens with HMAC-SHA256 and a secret shared by dispatchers and
 * brokers, so a broker checks a token with no store round trip.
 * Format: {@code base64url(appId \n regId \n region \n expiresAtMillis) "." base64url(hmac)}.
 */
public final class ConnectTokenSigner {
    private static final int MAX_TOKEN_CHARS = 1024;

    private final HmacSha256 hmac;

    public ConnectTokenSigner(byte[] secret) {
        if (secret == null || secret.length < 16) {
            throw new IllegalArgumentException("token secret must be at least 16 bytes");
        }
        this.hmac = new HmacSha256(secret);
    }

    /**
     * @throws IllegalArgumentException when a claim contains a line feed or the token would be
     *                                  longer than {@link #verify} accepts
     */
    public String sign(ConnectToken token) {
        if (token.appId().indexOf('\n') >= 0 || token.regId().indexOf('\n') >= 0 || token.region().indexOf('\n') >= 0) {
            throw new IllegalArgumentException("token claims must not contain a line feed");
        }
        String claims = token.appId() + '\n' + token.regId() + '\n' + token.region() + '\n' + token.expiresAtMillis();
        byte[] claimBytes = claims.getBytes(StandardCharsets.UTF_8);
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString(claimBytes) + '.' + b64.encodeToString(hmac.sign(claimBytes));
        if (signed.length() > MAX_TOKEN_CHARS) {
            throw new IllegalArgumentException("token of " + signed.length() + " chars exceeds " + MAX_TOKEN_CHARS);
        }
        return signed;
    }

    /** Checks signature and expiry; the caller still compares appId/regId with the CONNECT frame. */
    public Verification verify(String token, long nowMillis) {
        if (token == null || token.length() > MAX_TOKEN_CHARS) {
            return Verification.failed(ReasonCode.TOKEN_INVALID, "token missing or too long");
        }
        int dot = token.indexOf('.');
        if (dot <= 0 || dot == token.length() - 1) {
            return Verification.failed(ReasonCode.TOKEN_INVALID, "token is not claims.signature");
        }
        byte[] claimBytes;
        byte[] signature;
        try {
            Base64.Decoder b64 = Base64.getUrlDecoder();
            claimBytes = b64.decode(token.substring(0, dot));
            signature = b64.decode(token.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            return Verification.failed(ReasonCode.TOKEN_INVALID, "token is not base64url");
        }
        if (!MessageDigest.isEqual(signature, hmac.sign(claimBytes))) {
            return Verification.failed(ReasonCode.TOKEN_INVALID, "bad token signature");
        }
        String[] parts = new String(claimBytes, StandardCharsets.UTF_8).split("\n", -1);
        if (parts.length != 4) {
            return Verification.failed(ReasonCode.TOKEN_INVALID, "bad token claims");
        }
        long expiresAt;
        try {
            expiresAt = Long.parseLong(parts[3]);
        } catch (NumberFormatException e) {
            return Verification.failed(ReasonCode.TOKEN_INVALID, "bad token expiry");
        }
        ConnectToken claims = new ConnectToken(parts[0], parts[1], parts[2], expiresAt);
        if (expiresAt <= nowMillis) {
            return new Verification(claims, ReasonCode.TOKEN_EXPIRED, "token expired");
        }
        return new Verification(claims, ReasonCode.OK, "");
    }

    /** Outcome of {@link #verify}: {@code reason == OK} means valid; claims are null when unreadable. */
    public record Verification(ConnectToken claims, ReasonCode reason, String detail) {
        static Verification failed(ReasonCode reason, String detail) {
            return new Verification(null, reason, detail);
        }

        public boolean valid() {
            return reason == ReasonCode.OK;
        }
    }
}
