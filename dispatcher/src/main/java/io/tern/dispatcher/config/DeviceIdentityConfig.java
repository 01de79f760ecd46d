package io.tern.dispatcher.config;

import io.tern.protocol.token.DeviceSecrets;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Who may register a device and how a device proves who it is, keys {@code dispatcher.*}.
 *
 * @param deviceKey     platform key that derives every device secret ({@code dispatcher.device-key}, at least
 *                      16 bytes); a new key invalidates every issued device secret
 * @param clientKeys    appId → the app's client key, the credential that ships inside the app and lets it
 *                      register devices ({@code dispatcher.client-keys = app=key,app2=key2}); distinct from
 *                      the server-side app secret
 * @param signClockSkew how far a dispatch request's {@code ts} may be from the dispatcher's clock
 *                      ({@code dispatcher.sign-clock-skew}); default 5m
 */
public record DeviceIdentityConfig(String deviceKey, Map<String, String> clientKeys, Duration signClockSkew) {
    /** Dev only: a dispatcher outside dev mode refuses to start with it. */
    public static final String DEV_DEVICE_KEY = "tern-dev-device-key";
    public static final Duration DEFAULT_SIGN_CLOCK_SKEW = Duration.ofMinutes(5);
    /** appIds as the dispatcher accepts them in requests. */
    private static final Pattern APP_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    public DeviceIdentityConfig {
        ConfigException.require(deviceKey != null && deviceKey.getBytes(StandardCharsets.UTF_8).length >= DeviceSecrets.MIN_KEY_BYTES,
                "dispatcher.device-key must be at least " + DeviceSecrets.MIN_KEY_BYTES + " bytes");
        ConfigException.require(clientKeys != null, "dispatcher.client-keys must be set");
        clientKeys.forEach((app, key) -> {
            ConfigException.require(APP_ID.matcher(app).matches(),
                    "dispatcher.client-keys: appId must match " + APP_ID + ", got '" + app + "'");
            ConfigException.require(key != null && key.length() >= 8 && key.length() <= 256,
                    "dispatcher.client-keys: the client key of app " + app + " must be 8 to 256 characters");
        });
        clientKeys = Map.copyOf(clientKeys);
        ConfigException.require(signClockSkew != null && signClockSkew.compareTo(Duration.ofSeconds(10)) >= 0
                        && signClockSkew.compareTo(Duration.ofHours(1)) <= 0,
                "dispatcher.sign-clock-skew must be between 10s and 1h, got " + signClockSkew);
    }

    public static DeviceIdentityConfig from(Settings s) {
        Map<String, String> keys = new TreeMap<>();
        for (String entry : s.list("dispatcher.client-keys", List.of())) {
            int eq = entry.indexOf('=');
            ConfigException.require(eq > 0 && eq < entry.length() - 1,
                    "dispatcher.client-keys must list appId=clientKey pairs separated by commas");
            ConfigException.require(keys.put(entry.substring(0, eq), entry.substring(eq + 1)) == null,
                    "dispatcher.client-keys names app " + entry.substring(0, eq) + " twice");
        }
        return new DeviceIdentityConfig(
                s.string("dispatcher.device-key", DEV_DEVICE_KEY),
                keys,
                s.duration("dispatcher.sign-clock-skew", DEFAULT_SIGN_CLOCK_SKEW));
    }

    public boolean usesDevDeviceKey() {
        return DEV_DEVICE_KEY.equals(deviceKey);
    }

    /** Never prints the key or the client keys, only which apps have one. */
    @Override
    public String toString() {
        return "DeviceIdentityConfig[deviceKey=****, clientKeys=" + clientKeys.keySet() + "=****, signClockSkew="
                + signClockSkew + ']';
    }
}
