package io.tern.dispatcher.identity;

import io.tern.store.app.AppRepository;
import io.tern.store.app.StoredApp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client keys of the apps created through the SRE admin API ({@link AppRepository}), in memory and re-read on a
 * fixed delay by one named thread, so a registration never waits on Redis: an app created at run time registers
 * devices here within one refresh. A failed read keeps the last keys. Apps stored without a client key are left out.
 */
public final class StoredClientKeys implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StoredClientKeys.class);

    private final AppRepository apps;
    private final Duration period;
    private final Duration readTimeout;
    private final String prefix;
    private final ScheduledExecutorService scheduler;
    private final AtomicLong failures = new AtomicLong();
    private volatile Map<String, byte[]> keys = Map.of();
    private boolean failing; // guarded by this (refreshNow)

    /**
     * @param readTimeout bound on one read, so a hung read cannot stop later refreshes
     * @param owner       names the role and instance in logs and the thread name, e.g. "dispatcher d1"
     */
    public StoredClientKeys(AppRepository apps, Duration period, Duration readTimeout, String owner) {
        this.apps = apps;
        this.period = period;
        this.readTimeout = readTimeout;
        this.prefix = "[" + owner + " apps]";
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, owner.replace(' ', '-') + "-apps");
            t.setDaemon(true);
            return t;
        });
    }

    /** Reads now on the calling thread (a device of a stored app must not be refused for a period), then on schedule. */
    public StoredClientKeys start() {
        refreshNow();
        long ms = period.toMillis();
        scheduler.scheduleWithFixedDelay(this::refreshNow, ms, ms, TimeUnit.MILLISECONDS);
        return this;
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
        return failures.get();
    }

    /** One read; blocks up to the read timeout. Never throws. */
    public synchronized boolean refreshNow() {
        Map<String, StoredApp> read;
        try {
            read = apps.apps().get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            failures.incrementAndGet();
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            if (!failing) {
                failing = true;
                log.warn("{} reading stored apps failed, keeping the last {} client keys: {}", prefix, keys.size(),
                        cause.toString());
            } else {
                log.debug("{} reading stored apps failed again: {}", prefix, cause.toString());
            }
            return false;
        }
        if (failing) {
            failing = false;
            log.info("{} reading stored apps works again", prefix);
        }
        Map<String, byte[]> next = new HashMap<>();
        read.forEach((id, app) -> {
            if (app.clientKey() != null) {
                next.put(id, app.clientKey().getBytes(StandardCharsets.UTF_8));
            }
        });
        if (next.size() != keys.size()) {
            log.info("{} stored apps with a client key: {}", prefix, next.size());
        }
        keys = Map.copyOf(next);
        return true;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(readTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                log.warn("{} refresh thread did not stop in time", prefix);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
