package io.tern.dispatcher.identity;

import io.tern.store.app.AppRepository;
import io.tern.store.app.StoredApp;
import io.tern.store.refresh.PeriodicRead;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The client keys of the apps created through the SRE admin API ({@link AppRepository}), in memory and re-read on a
 * fixed delay, so a registration never waits on Redis: an app created at run time registers devices here within one
 * refresh. A failed read keeps the last keys. Apps stored without a client key are left out.
 */
public final class StoredClientKeys implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StoredClientKeys.class);

    private final PeriodicRead<Map<String, StoredApp>> reads;
    private volatile Map<String, byte[]> keys = Map.of();

    /**
     * @param readTimeout bound on one read, so a hung read cannot stop later refreshes
     * @param owner       names the role and instance in logs and the thread name, e.g. "dispatcher d1"
     */
    public StoredClientKeys(AppRepository apps, Duration period, Duration readTimeout, String owner) {
        this.reads = new PeriodicRead<>(owner, "apps", "stored apps", period, readTimeout, apps::apps, this::apply);
    }

    /** Reads now on the calling thread (a device of a stored app must not be refused for a period), then on schedule. */
    public StoredClientKeys start() {
        reads.start();
        return this;
    }

    private void apply(Map<String, StoredApp> read) {
        Map<String, byte[]> next = new HashMap<>();
        read.forEach((id, app) -> {
            if (app.clientKey() != null) {
                next.put(id, app.clientKey().getBytes(StandardCharsets.UTF_8));
            }
        });
        if (next.size() != keys.size()) {
            log.info("{} stored apps with a client key: {}", reads.prefix(), next.size());
        }
        keys = Map.copyOf(next);
    }

    /** The stored app's client key as UTF-8, or null when no stored app of that id has one. */
    public byte[] clientKey(String appId) {
        return keys.get(appId);
    }

    /** Stored apps with a client key, as last read (a gauge). */
    public int size() {
        return keys.size();
    }

    /** Failed reads since start (a counter). */
    public long failures() {
        return reads.failures();
    }

    /** One read; blocks up to the read timeout. Never throws. */
    public boolean refreshNow() {
        return reads.readNow();
    }

    @Override
    public void close() {
        reads.close();
    }
}
