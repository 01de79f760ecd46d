package io.tern.store.redis;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Tells a role whether Redis answers: one PING at a time every {@code probeEvery}; no answer for {@code after}
 * (default 2 s) is an outage, the first answer after it ends the outage. Roles switch their own paths on
 * {@link #onChange} (and decide themselves when they are back, e.g. after reconciling what they wrote aside).
 * A slow but answering Redis is not an outage; a hung one is, once its PINGs time out past {@code after}. On a Redis
 * Cluster the PING goes to one node the client picks (after a topology refresh, a live one): the whole cluster
 * silent is an outage; one master dying is not (its slots fail until its replica is promoted, about a second or two).
 */
public final class RedisOutage implements AutoCloseable {
    public static final Duration DEFAULT_AFTER = Duration.ofSeconds(2);
    public static final Duration DEFAULT_PROBE_EVERY = Duration.ofMillis(250);
    private static final Logger log = LoggerFactory.getLogger(RedisOutage.class);

    private final RedisStore store;
    private final long afterMillis;
    private final LongSupplier clock;
    private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean probing = new AtomicBoolean();
    private final ScheduledExecutorService timer;
    private volatile long lastAnswerMillis;
    private volatile long outageSinceMillis; // 0 while Redis answers
    private volatile long outages;

    private RedisOutage(RedisStore store, Duration after, LongSupplier clock, String name) {
        this.store = store;
        this.afterMillis = after.toMillis();
        this.clock = clock;
        this.lastAnswerMillis = clock.getAsLong();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tern-redis-outage-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts probing {@code store}.
     *
     * @param name for the thread and logs (the role's id)
     */
    public static RedisOutage watch(RedisStore store, Duration after, Duration probeEvery, LongSupplier clock,
                                    String name) {
        if (after.toMillis() < 100 || probeEvery.toMillis() < 10 || probeEvery.compareTo(after) >= 0) {
            throw new IllegalArgumentException("need after >= 100ms and 10ms <= probeEvery < after, was " + after
                    + " / " + probeEvery);
        }
        RedisOutage o = new RedisOutage(store, after, clock, name);
        o.timer.scheduleWithFixedDelay(o::tick, 0, probeEvery.toMillis(), TimeUnit.MILLISECONDS);
        return o;
    }

    /**
     * Calls {@code listener} with true when an outage starts and false when Redis answers again, on the probe
     * thread, in order; it must not block.
     */
    public void onChange(Consumer<Boolean> listener) {
        listeners.add(listener);
    }

    /** Redis has not answered for {@code after}. */
    public boolean isOutage() {
        return outageSinceMillis != 0;
    }

    /** When the current outage began (its last answer), or 0 while Redis answers. */
    public long outageSinceMillis() {
        return outageSinceMillis;
    }

    /** Outages seen since start. */
    public long outages() {
        return outages;
    }

    private void tick() {
        try {
            long now = clock.getAsLong();
            if (outageSinceMillis == 0 && now - lastAnswerMillis >= afterMillis) {
                outageSinceMillis = lastAnswerMillis;
                outages++;
                log.warn("Redis has not answered for {} ms: outage mode", now - lastAnswerMillis);
                notifyListeners(true);
            }
            if (!probing.compareAndSet(false, true)) {
                return; // the last PING is still out (a hung Redis): its timeout ends it
            }
            store.async().ping().whenComplete((pong, err) -> {
                probing.set(false);
                if (err == null) {
                    answered();
                }
            });
        } catch (RuntimeException e) { // the connection refused the command outright
            probing.set(false);
        }
    }

    private void answered() {
        lastAnswerMillis = clock.getAsLong();
        if (outageSinceMillis != 0) {
            timer.execute(() -> {
                if (outageSinceMillis != 0) {
                    log.info("Redis answers again after {} ms", clock.getAsLong() - outageSinceMillis);
                    outageSinceMillis = 0;
                    notifyListeners(false);
                }
            });
        }
    }

    private void notifyListeners(boolean outage) {
        for (Consumer<Boolean> l : listeners) {
            try {
                l.accept(outage);
            } catch (RuntimeException e) {
                log.error("outage listener failed", e);
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
