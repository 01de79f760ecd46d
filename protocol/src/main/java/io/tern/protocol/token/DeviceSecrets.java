package io.tern.protocol.token;

import io.tern.protocol.crypto.HmacSha256;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The platform side of device identity: a device's secret is derived from its appId and regId with
 * the platform's device key, so the dispatcher checks a device's signature with no store round trip
 * and only the platform (and the device it issued the secret to) can compute it.
 * {@code deviceSecret = lowercase hex HMAC-SHA256(deviceKey, appId + "\n" + regId)}; the line feed
 * (never part of an id) keeps (app "ab", reg "c") and (app "a", reg "bc") apart.
 */
public final class DeviceSecrets {
    public static final int MIN_KEY_BYTES = 16;

    private final HmacSha256 hmac;

    public DeviceSecrets(byte[] deviceKey) {
        if (deviceKey == null || deviceKey.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("device key must be at least " + MIN_KEY_BYTES + " bytes");
        }
        this.hmac = new HmacSha256(deviceKey);
    }

    /** The secret of device {@code regId} of app {@code appId}: 64 lowercase hex characters. */
    public String secretFor(String appId, String regId) {
        byte[] data = (appId + '\n' + regId).getBytes(StandardCharsets.UTF_8);
        return HexFormat.of().formatHex(hmac.sign(data));
    }
}
