package io.tern.broker.registry;

import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Refreshes this broker's registry key (with a TTL) every interval: one store write per
 * broker, never per device. Dispatchers list only brokers whose key is present, and a route
 * pointing at a broker whose key expired means "offline".
 */
public final class LivenessReporter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LivenessReporter.class);

    private final BrokerRegistry registry;
    private final Supplier<BrokerInfo> info;
    private final Duration interval;
    private final Duration ttl;
    private final LongSupplier clock;
    private final String brokerId;
    private final ScheduledExecutorService timer;
    // A heartbeat still waiting on Redis is not doubled up by the next tick.
    private final AtomicBoolean inFlight = new AtomicBoolean();
    private volatile boolean failing;
    private volatile Runnable onRecovered = () -> { };

    private LivenessReporter(String brokerId, BrokerRegistry registry, Supplier<BrokerInfo> info, Duration interval,
                             Duration ttl, LongSupplier clock) {
        this.brokerId = brokerId;
        this.registry = registry;
        this.info = info;
        this.interval = interval;
        this.ttl = ttl;
        this.clock = clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tern-broker-" + brokerId + "-liveness");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Writes the first heartbeat (waiting for it, so a dispatcher can list the broker as soon as
     * this returns), then one every interval.
     *
     * @throws IllegalStateException when the first heartbeat fails
     */
    public static LivenessReporter start(String brokerId, BrokerRegistry registry, Supplier<BrokerInfo> info,
                                         Duration interval, Duration ttl, LongSupplier clock, Duration firstTimeout) {
        LivenessReporter r = new LivenessReporter(brokerId, registry, info, interval, ttl, clock);
        try {
            registry.heartbeat(info.get(), ttl, clock.getAsLong()).get(firstTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            r.timer.shutdownNow();
            throw new IllegalStateException("first registry heartbeat of broker " + brokerId + " failed", e);
        }
        r.timer.scheduleAtFixedRate(r::beat, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return r;
    }

    private void beat() {
        if (!inFlight.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture<Void> f;
        try {
            f = registry.heartbeat(info.get(), ttl, clock.getAsLong());
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((ok, err) -> {
            inFlight.set(false);
            if (err != null && !failing) {
                failing = true;
                log.warn("[broker {}] registry heartbeat failed; dispatchers drop this broker after {}: {}",
                        brokerId, ttl, err.toString());
            } else if (err == null && failing) {
                failing = false;
                log.info("[broker {}] registry heartbeat recovered", brokerId);
                onRecovered.run();
            }
        });
    }

    /**
     * Runs {@code action} (on the heartbeat thread; must not block) when a heartbeat succeeds
     * after failing: Redis works again, with or without its connection having dropped.
     */
    public void whenRecovered(Runnable action) {
        this.onRecovered = action;
    }

    /**
     * Writes a heartbeat now, off the caller's thread: when Redis comes back after an outage the
     * key may have expired, and dispatchers should list this broker again at once.
     */
    public void beatNow() {
        try {
            timer.execute(this::beat);
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    /** Stops heart-beating and deletes the registry key, waiting at most {@code max}. */
    public void deregister(Duration max) {
        timer.shutdownNow();
        try {
            // A beat dispatched after the delete would bring the key back for a TTL.
            timer.awaitTermination(max.toMillis(), TimeUnit.MILLISECONDS);
            registry.deregister(brokerId).get(Math.max(1, max.toMillis()), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("[broker {}] deregistering failed; the registry key expires within {}: {}", brokerId, ttl, e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
