package io.tern.client;

import io.tern.client.dispatch.DeviceCredentials;

/**
 * Where a client keeps its {@link DeviceCredentials} between runs, so a device registers once per
 * installation. The SDK has no storage of its own: the default ({@link #inMemory()}) forgets them when the
 * process ends; an app supplies one backed by its preferences or keychain.
 *
 * <p>{@link #load()} is called once, from {@link TernClient.Builder#build()}; {@link #save} after a
 * registration, on the HTTP client's executor (never on the event loop), so either may do I/O.
 */
public interface CredentialStore {
    /** @return the credentials saved earlier, or null when this device has none yet */
    DeviceCredentials load();

    /** Keeps freshly issued credentials; a failure is logged and the client goes on with them in memory. */
    void save(DeviceCredentials credentials);

    /** Keeps credentials for the life of this object only. */
    static CredentialStore inMemory() {
        return new CredentialStore() {
            private volatile DeviceCredentials saved;

            @Override
            public DeviceCredentials load() {
                return saved;
            }

            @Override
            public void save(DeviceCredentials credentials) {
                saved = credentials;
            }
        };
    }
}
