package io.tern.protocol.token;

import io.tern.protocol.crypto.HmacSha256;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The signature a device puts on {@code GET /v1/dispatch}: {@code sign} = lowercase hex
 * HMAC-SHA256 of {@code appId + regId + ts} keyed with the UTF-8 bytes of the device secret,
 * {@code ts} in epoch milliseconds. The SDK signs with it; the dispatcher checks it.
 */
public final class DispatchSignature {
    private DispatchSignature() {
    }

    public static String sign(String deviceSecret, String appId, String regId, long ts) {
        byte[] mac = HmacSha256.sign(deviceSecret.getBytes(StandardCharsets.UTF_8),
                (appId + regId + ts).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(mac);
    }

    /** Constant-time comparison of {@code sign} with the expected one; false for anything that is not 64 hex chars. */
    public static boolean verify(String deviceSecret, String appId, String regId, long ts, String sign) {
        if (sign == null || sign.length() != 64) {
            return false;
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(sign);
        } catch (IllegalArgumentException e) {
            return false;
        }
        byte[] expected = HexFormat.of().parseHex(sign(deviceSecret, appId, regId, ts));
        return MessageDigest.isEqual(expected, given);
    }
}
