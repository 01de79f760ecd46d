package io.tern.store.refresh;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Re-reads something from the store on a fixed delay, on one named daemon thread, and hands each successful read to
 * its owner, so request paths keep an in-memory copy and never wait on Redis for it. A read is bounded by a timeout
 * (a hung read cannot stop later ones); a failed read leaves the owner's copy as it was, is counted, and is logged
 * once when reads start failing and once when they work again, not at every period of an outage.
 */
public final class PeriodicRead<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PeriodicRead.class);

    private final String what;
    private final Duration period;
    private final Duration readTimeout;
    private final Supplier<? extends CompletionStage<T>> read;
    private final Consumer<T> apply;
    private final String prefix;
    private final ScheduledExecutorService thread;
    private final AtomicLong failures = new AtomicLong();
    private boolean failing; // guarded by this (readNow)

    /**
     * @param owner       names the role and instance in logs and the thread name, e.g. "dispatcher d1"
     * @param topic       one word for the thread name and the log prefix, e.g. "registry"
     * @param what        what is read, for the log, e.g. "live brokers"
     * @param readTimeout bound on one read
     * @param apply       takes each successful read, on the reading thread; serialised with other reads
     */
    public PeriodicRead(String owner, String topic, String what, Duration period, Duration readTimeout,
                        Supplier<? extends CompletionStage<T>> read, Consumer<T> apply) {
        this.what = what;
        this.period = period;
        this.readTimeout = readTimeout;
        this.read = read;
        this.apply = apply;
        this.prefix = "[" + owner + " " + topic + "]";
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, owner.replace(' ', '-') + "-" + topic);
            t.setDaemon(true);
            return t;
        });
    }

    /** Reads once now, waiting for it (the first requests must see what is stored), then every period. */
    public PeriodicRead<T> start() {
        readNow();
        long ms = period.toMillis();
        thread.scheduleWithFixedDelay(this::readNow, ms, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    /** One read on the calling thread; blocks up to the read timeout. Never throws. */
    public synchronized boolean readNow() {
        T value;
        try {
            value = read.get().toCompletableFuture().get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            failures.incrementAndGet();
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            if (!failing) {
                failing = true;
                log.warn("{} reading {} failed, keeping the last read: {}", prefix, what, cause.toString());
            } else {
                log.debug("{} reading {} failed again: {}", prefix, what, cause.toString());
            }
            return false;
        }
        if (failing) {
            failing = false;
            log.info("{} reading {} works again", prefix, what);
        }
        try {
            apply.accept(value);
        } catch (RuntimeException e) {
            log.warn("{} applying a read of {} failed", prefix, what, e);
            return false;
        }
        return true;
    }

    /** Reads on the reading thread after {@code delayMillis}; false once closed. */
    public boolean readLater(long delayMillis) {
        try {
            thread.schedule(this::readNow, delayMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** The log prefix, "[owner topic]", for the owner's own lines about what it read. */
    public String prefix() {
        return prefix;
    }

    /** Failed reads since start (a counter). */
    public long failures() {
        return failures.get();
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(readTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                log.warn("{} reading thread did not stop in time", prefix);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
