package io.tern.dispatcher.identity;

import io.tern.dispatcher.config.DeviceIdentityConfig;
import io.tern.protocol.token.DeviceSecrets;
import io.tern.protocol.token.DispatchSignature;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.function.Function;

/**
 * Issues device identities and checks them, with no store: a regId is 128 random bits, its secret is
 * derived from it with the platform's device key ({@link DeviceSecrets}), so any dispatcher holding the
 * key can check a signed dispatch, and a regId the platform never issued has no secret anyone knows.
 * An app is known by its client key: configured ({@code dispatcher.client-keys}) first, else stored by the SRE
 * admin API (looked up in memory, never in Redis on the request path).
 */
public final class DeviceIdentity {
    /** 16 random bytes in hex: 128 bits, 32 characters that match the platform's id pattern. */
    private static final int REG_ID_BYTES = 16;

    private final Map<String, byte[]> clientKeys;
    private final Function<String, byte[]> storedClientKeys;
    private final DeviceSecrets secrets;
    private final long skewMillis;
    private final SecureRandom random;

    /** A device's credentials as issued: the regId to give the app's server, the secret to keep on the device. */
    public record Issued(String regId, String deviceSecret) {
        @Override
        public String toString() {
            return "Issued[regId=" + regId + ", deviceSecret=****]";
        }
    }

    /** @param storedClientKeys appId → the UTF-8 client key of an app stored by the admin API, or null */
    public DeviceIdentity(DeviceIdentityConfig config, Function<String, byte[]> storedClientKeys, SecureRandom random) {
        this.clientKeys = new HashMap<>();
        config.clientKeys().forEach((app, key) -> clientKeys.put(app, key.getBytes(StandardCharsets.UTF_8)));
        this.storedClientKeys = storedClientKeys;
        this.secrets = new DeviceSecrets(config.deviceKey().getBytes(StandardCharsets.UTF_8));
        this.skewMillis = config.signClockSkew().toMillis();
        this.random = random;
    }

    /** @return true when {@code appId} is provisioned and {@code clientKey} is its client key */
    public boolean clientKeyValid(String appId, String clientKey) {
        byte[] expected = clientKeyOf(appId);
        return expected != null && MessageDigest.isEqual(expected, clientKey.getBytes(StandardCharsets.UTF_8));
    }

    /** A configured key wins over a stored one of the same app: the operator's configuration has the last word. */
    private byte[] clientKeyOf(String appId) {
        byte[] configured = clientKeys.get(appId);
        return configured != null ? configured : storedClientKeys.apply(appId);
    }

    /** A new device of {@code appId}: a fresh regId at every call, and its secret. */
    public Issued issue(String appId) {
        byte[] id = new byte[REG_ID_BYTES];
        random.nextBytes(id);
        String regId = HexFormat.of().formatHex(id);
        return new Issued(regId, secrets.secretFor(appId, regId));
    }

    public boolean appKnown(String appId) {
        return clientKeyOf(appId) != null;
    }

    /**
     * @return true when {@code sign} is the device's signature over appId + regId + ts and ts is within the
     *         allowed skew of {@code nowMillis}
     */
    public boolean dispatchSigned(String appId, String regId, long ts, String sign, long nowMillis) {
        // Compared without subtracting ts: a ts near Long.MIN_VALUE must not overflow into the window.
        if (ts < nowMillis - skewMillis || ts > nowMillis + skewMillis) {
            return false;
        }
        return DispatchSignature.verify(secrets.secretFor(appId, regId), appId, regId, ts, sign);
    }
}
