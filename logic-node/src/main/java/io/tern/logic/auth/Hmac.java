package io.tern.logic.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/** HMAC-SHA256, the one primitive behind app signatures, auth tokens and callback signatures. */
public final class Hmac {
    private Hmac() {
    }

    public static byte[] sha256(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    public static byte[] sha256(String key, String data) {
        return sha256(key.getBytes(StandardCharsets.UTF_8), data.getBytes(StandardCharsets.UTF_8));
    }

    /** Lowercase hex of {@link #sha256(byte[], byte[])} keyed with the UTF-8 bytes of {@code key}. */
    public static String sha256Hex(String key, byte[] data) {
        return HexFormat.of().formatHex(sha256(key.getBytes(StandardCharsets.UTF_8), data));
    }
}
