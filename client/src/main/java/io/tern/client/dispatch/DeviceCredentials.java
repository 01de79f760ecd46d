package io.tern.client.dispatch;

/**
 * What the platform issued this device at registration: the regId (public: the app hands it to its own
 * server, which pushes to it) and the device secret (private: it never leaves the device and signs every
 * dispatch request).
 */
public record DeviceCredentials(String regId, String deviceSecret) {
    public DeviceCredentials {
        if (regId == null || regId.isBlank()) {
            throw new IllegalArgumentException("regId is required");
        }
        if (regId.length() > 128) {
            throw new IllegalArgumentException("regId is over 128 characters, which the platform never issues");
        }
        if (deviceSecret == null || deviceSecret.isBlank()) {
            throw new IllegalArgumentException("deviceSecret is required");
        }
    }

    /** Never prints the secret. */
    @Override
    public String toString() {
        return "DeviceCredentials[regId=" + regId + ", deviceSecret=****]";
    }
}
