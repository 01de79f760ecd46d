package io.tern.broker.delivery;

import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Session;
import io.tern.broker.session.Sessions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * After a Redis outage: re-registers the broker at once (its liveness key may have expired, so
 * dispatchers and logic nodes saw it as dead) and then walks every live session, {@code batch}
 * at a time and at most {@code ratePerSecond}, writing its route again and delivering its offline
 * queue (see {@link Presence#restore}). One named thread paces the walk; Redis calls are async and
 * pipelined by Lettuce. A pass that meets Redis failing again is retried after a pause, a bounded
 * number of times; a newer reconnect starts a fresh pass. A second pass follows a few seconds
 * later for messages logic nodes queued before they saw this broker alive again. A heartbeat that
 * recovers without a reconnect (Redis hung, or loading) starts a pass too.
 */
public final class RouteRestorer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RouteRestorer.class);
    /** A pass that fails (Redis went away again) starts over after this, at most {@value #MAX_RETRIES} times. */
    private static final Duration RETRY_PAUSE = Duration.ofMillis(500);
    private static final int MAX_RETRIES = 20;
    /**
     * The second pass, after logic nodes have re-read the registry (every second by default, and
     * at once after their own reconnect): what they queued for these devices meanwhile is delivered.
     */
    private static final Duration FOLLOW_UP = Duration.ofSeconds(3);
    /** A heartbeat recovery this soon after a pass started is the same outage's. */
    private static final Duration RECENT_PASS = Duration.ofSeconds(10);

    private final String brokerId;
    private final Sessions sessions;
    private final Presence presence;
    private final Runnable reRegister;
    private final int batch;
    private final long batchPauseNanos;
    private final Duration batchTimeout;
    private final BrokerMetrics metrics;
    private final ScheduledExecutorService thread;
    // Each reconnect starts a new pass; an older one stops at its next batch.
    private final AtomicLong generation = new AtomicLong();
    private volatile long lastPassStartedNanos = System.nanoTime() - RECENT_PASS.toNanos() - 1;

    /**
     * @param reRegister   writes the registry heartbeat now
     * @param batchTimeout bound on one batch's Redis calls (a hung batch must not stall the pass)
     */
    public RouteRestorer(String brokerId, Sessions sessions, Presence presence, Runnable reRegister, int batch,
                         int ratePerSecond, Duration batchTimeout, BrokerMetrics metrics) {
        this.brokerId = brokerId;
        this.sessions = sessions;
        this.presence = presence;
        this.reRegister = reRegister;
        this.batch = batch;
        this.batchPauseNanos = TimeUnit.SECONDS.toNanos(1) * batch / ratePerSecond;
        this.batchTimeout = batchTimeout;
        this.metrics = metrics;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tern-broker-" + brokerId + "-restore");
            t.setDaemon(true);
            return t;
        });
    }

    /** Redis is back: re-register now and start re-writing routes. Never blocks; call from any thread. */
    public void redisReconnected() {
        lastPassStartedNanos = System.nanoTime(); // the heartbeat below recovers as part of this same pass
        reRegister.run();
        startPass();
    }

    /**
     * The registry heartbeat works again: if no pass started recently (Redis hung or was loading
     * without the connection dropping), this broker may have looked dead, so restore now.
     */
    public void heartbeatRecovered() {
        if (System.nanoTime() - lastPassStartedNanos > RECENT_PASS.toNanos()) {
            startPass();
        }
    }

    private void startPass() {
        long gen = generation.incrementAndGet();
        lastPassStartedNanos = System.nanoTime();
        submit(() -> pass(gen, 0, true), 0);
    }

    /**
     * @param followUp whether to run once more {@link #FOLLOW_UP} later: logic nodes may still have
     *                 queued messages for these devices until their registry snapshot listed this
     *                 broker again, after this pass read the queues
     */
    private void pass(long gen, int retry, boolean followUp) {
        metrics.recovery("restore-pass");
        long started = System.nanoTime();
        Iterator<Session> it = sessions.all().iterator();
        int restored = 0;
        while (it.hasNext()) {
            if (gen != generation.get()) {
                return; // a newer reconnect started its own pass
            }
            List<CompletableFuture<Void>> calls = new ArrayList<>(batch);
            long batchStart = System.nanoTime();
            while (it.hasNext() && calls.size() < batch) {
                calls.add(presence.restore(it.next()));
            }
            try {
                CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                        .get(batchTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                if (retry < MAX_RETRIES) {
                    log.warn("[broker {}] re-writing routes after the Redis outage failed after {} sessions, retrying in {}: {}",
                            brokerId, restored, RETRY_PAUSE, e.toString());
                    reRegister.run();
                    submit(() -> pass(gen, retry + 1, followUp), RETRY_PAUSE.toMillis());
                } else {
                    log.error("[broker {}] gave up re-writing routes after {} tries; devices reconnecting get new routes",
                            brokerId, retry + 1, e);
                }
                return;
            }
            restored += calls.size();
            long pause = batchPauseNanos - (System.nanoTime() - batchStart);
            if (pause > 0 && it.hasNext()) {
                // This thread only paces the pass: no event loop waits on it.
                try {
                    TimeUnit.NANOSECONDS.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        log.info("[broker {}] Redis is back: routes of {} live sessions re-written and their queues delivered in {} ms",
                brokerId, restored, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        if (followUp) {
            submit(() -> {
                if (gen == generation.get()) {
                    pass(gen, 0, false);
                }
            }, FOLLOW_UP.toMillis());
        }
    }

    private void submit(Runnable task, long delayMillis) {
        try {
            thread.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
