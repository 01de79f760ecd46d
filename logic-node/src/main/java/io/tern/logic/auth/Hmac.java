package io.tern.logic.auth;

import io.tern.protocol.crypto.HmacSha256;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** The logic node's HMAC-SHA256 forms (app signatures, auth tokens, callback signatures) over {@link HmacSha256}. */
public final class Hmac {
    private Hmac() {
    }

    public static byte[] sha256(byte[] key, byte[] data) {
        return HmacSha256.sign(key, data);
    }

    public static byte[] sha256(String key, String data) {
        return sha256(key.getBytes(StandardCharsets.UTF_8), data.getBytes(StandardCharsets.UTF_8));
    }

    /** Lowercase hex of {@link #sha256(byte[], byte[])} keyed with the UTF-8 bytes of {@code key}. */
    public static String sha256Hex(String key, byte[] data) {
        return HexFormat.of().formatHex(sha256(key.getBytes(StandardCharsets.UTF_8), data));
    }
}
