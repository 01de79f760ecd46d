package io.tern.store.app;

/**
 * An app created through the SRE admin API, as stored in {@link io.tern.store.Keys#apps()}.
 *
 * @param appKey      the app's public key (its servers name it in /v1/auth)
 * @param appSecret   what its servers sign /v1/auth requests and check callbacks with; rotated by the admin API
 * @param clientKey   what ships inside the app and lets it register devices at a dispatcher; never rotated (a new
 *                    one would strand every installed copy). Null for an app stored before client keys existed:
 *                    such an app pushes, but registers no device
 * @param raw         the entry as read, which a compare-and-set replaces only if it is still there
 */
public record StoredApp(String appId, String appKey, String appSecret, String clientKey, long createdAtMillis,
                        long secretRotatedAtMillis, String raw) {

    @Override
    public String toString() {
        return "StoredApp[appId=" + appId + ", appKey=" + appKey + ", appSecret=****, clientKey="
                + (clientKey == null ? "none" : "****") + ", createdAt=" + createdAtMillis + ", secretRotatedAt="
                + secretRotatedAtMillis + ']';
    }
}
