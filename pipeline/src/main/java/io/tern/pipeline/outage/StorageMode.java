package io.tern.pipeline.outage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.store.redis.RedisOutage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Where a role keeps its state right now, driven by a {@link RedisOutage}: {@link Mode#NORMAL} (Redis),
 * {@link Mode#OUTAGE} (Redis silent: paths that can go on without it write aside, the rest refuse) and
 * {@link Mode#RECONCILING} (Redis answers again: every {@link Reconciler} moves what was written aside into Redis,
 * then NORMAL). A reconciler that fails (the disk KV unreachable, say) leaves the mode RECONCILING and all of them
 * run again {@code retryEvery} later (or on Redis' next answer after another outage); they must be idempotent. Metrics: gauge {@code tern.storage.mode} (0 normal, 1 outage,
 * 2 reconciling), counters {@code tern.storage.outages} and {@code tern.storage.reconciliations}.
 */
public final class StorageMode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StorageMode.class);

    public enum Mode { NORMAL, OUTAGE, RECONCILING }

    /** Moves what one path wrote aside during an outage into Redis; runs only while Redis answers. */
    @FunctionalInterface
    public interface Reconciler {
        CompletableFuture<Void> reconcile();
    }

    private final RedisOutage outage;
    private final String prefix;
    private final List<Consumer<Mode>> listeners = new CopyOnWriteArrayList<>();
    private final List<Reconciler> reconcilers = new CopyOnWriteArrayList<>();
    private final Counter reconciliations;
    private final long retryMillis;
    private final ScheduledExecutorService retries;
    private final AtomicLong generation = new AtomicLong(); // bumped per outage: a late reconciliation is stale
    private volatile Mode mode = Mode.NORMAL;

    private StorageMode(RedisOutage outage, Duration retryEvery, MeterRegistry registry, String owner) {
        this.outage = outage;
        this.retryMillis = retryEvery.toMillis();
        this.retries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tern-storage-reconcile-" + owner);
            t.setDaemon(true);
            return t;
        });
        this.prefix = "[" + owner + " storage]";
        Gauge.builder("tern.storage.mode", this, m -> m.mode.ordinal())
                .description("0 normal (Redis), 1 outage (written aside), 2 reconciling").register(registry);
        Counter outages = Counter.builder("tern.storage.outages").description("Redis outages entered")
                .register(registry);
        reconciliations = Counter.builder("tern.storage.reconciliations")
                .description("outages reconciled back into Redis").register(registry);
        outage.onChange(silent -> {
            if (silent) {
                generation.incrementAndGet();
                outages.increment();
                set(Mode.OUTAGE);
            } else {
                set(Mode.RECONCILING);
                reconcile(generation.get());
            }
        });
    }

    /** Follows {@code outage} from now on (it starts NORMAL; an outage already under way is seen on its next change). */
    public static StorageMode follow(RedisOutage outage, Duration retryEvery, MeterRegistry registry, String owner) {
        return new StorageMode(outage, retryEvery, registry, owner);
    }

    public Mode mode() {
        return mode;
    }

    /** Redis is the store now: neither in an outage nor still reconciling one. */
    public boolean normal() {
        return mode == Mode.NORMAL;
    }

    /** For /health: the mode's name. */
    public String describe() {
        return mode.name().toLowerCase();
    }

    /** Calls {@code listener} with each new mode, in order, on the detector's thread; it must not block. */
    public void onChange(Consumer<Mode> listener) {
        listeners.add(listener);
    }

    /** Adds a path's reconciler: all run, in the order added, each time Redis answers after an outage. */
    public void reconcileWith(Reconciler reconciler) {
        reconcilers.add(reconciler);
    }

    private void reconcile(long gen) {
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (Reconciler r : reconcilers) {
            chain = chain.thenCompose(x -> gen == generation.get() && !outage.isOutage() ? r.reconcile()
                    : CompletableFuture.failedFuture(new IllegalStateException("Redis silent again")));
        }
        chain.whenComplete((x, err) -> {
            if (gen != generation.get()) {
                return; // another outage began meanwhile: its own end reconciles
            }
            if (err != null) {
                log.warn("{} reconciling failed, again in {} ms: {}", prefix, retryMillis, err.toString());
                retries.schedule(() -> {
                    if (gen == generation.get() && !outage.isOutage()) {
                        reconcile(gen);
                    }
                }, retryMillis, TimeUnit.MILLISECONDS);
                return;
            }
            reconciliations.increment();
            set(Mode.NORMAL);
        });
    }

    private synchronized void set(Mode next) {
        if (mode == next) {
            return;
        }
        log.info("{} {} -> {}", prefix, mode, next);
        mode = next;
        for (Consumer<Mode> l : listeners) {
            try {
                l.accept(next);
            } catch (RuntimeException e) {
                log.error("{} mode listener failed", prefix, e);
            }
        }
    }

    @Override
    public void close() {
        retries.shutdownNow();
        outage.close();
    }
}
