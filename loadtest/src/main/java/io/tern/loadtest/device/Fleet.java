package io.tern.loadtest.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.stats.EpochClock;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The receivers of one load-client process as {@link DeviceProcess} drives them: Tern devices ({@link TernFleet})
 * or, for the baseline, Redis pub/sub subscribers ({@link PubSubFleet}). What they share is here: the paced start,
 * the connection counters and {@link Receipts}, so the runner reads both the same way.
 */
abstract class Fleet {
    final DeviceConfig config;
    /** Local source addresses, used round robin. */
    final InetAddress[] addresses;
    final AtomicInteger started = new AtomicInteger();
    final AtomicInteger connected = new AtomicInteger();
    /** Receivers connected at least once. */
    final AtomicInteger firstConnects = new AtomicInteger();
    final AtomicLong disconnects = new AtomicLong();
    volatile boolean closing;
    private final Receipts receipts = new Receipts();
    private final AtomicLong startedAtMicros = new AtomicLong();
    private final AtomicLong allConnectedAtMicros = new AtomicLong();
    /** Told each broadcast number once its receipts reach the connected receivers; called on an event loop. */
    private final LongConsumer onBroadcastComplete;

    Fleet(DeviceConfig config, LongConsumer onBroadcastComplete) {
        this.config = config;
        this.onBroadcastComplete = onBroadcastComplete;
        this.addresses = new InetAddress[config.addresses().size()];
        for (int i = 0; i < addresses.length; i++) {
            try {
                addresses[i] = InetAddress.getByName(config.addresses().get(i));
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("bad source address " + config.addresses().get(i), e);
            }
        }
    }

    /** Starts every receiver, paced; returns at once (a daemon thread does the pacing). */
    final void connectAll() {
        Thread t = new Thread(this::startAll, "receivers-starter");
        t.setDaemon(true);
        t.start();
    }

    private void startAll() {
        long t0 = System.nanoTime();
        startedAtMicros.set(EpochClock.toEpochMicros(t0));
        if (config.count() == 0) {
            allConnectedAtMicros.set(EpochClock.nowMicros());
        }
        for (int i = 0; i < config.count() && !closing; i++) {
            awaitRoom();
            if (config.connectRate() > 0) {
                long wait = t0 + (long) (i * 1e9 / config.connectRate()) - System.nanoTime();
                if (wait > 0) {
                    try {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
            started.incrementAndGet();
            start(i);
        }
    }

    /** Waits while {@code maxPending} receivers are started but not connected yet (at most 30 s, then goes on). */
    abstract void awaitRoom();

    /** Starts receiver {@code i} (counted as started already). */
    abstract void start(int i);

    /** Closes every receiver, waiting up to {@code timeout}; returns how many closed in time. */
    abstract int closeAll(Duration timeout);

    /** A receiver connected for the first time. */
    void firstConnected() {
        if (firstConnects.incrementAndGet() == config.count()) {
            allConnectedAtMicros.set(EpochClock.nowMicros());
        }
    }

    /** Counts a message with {@code payload} read at {@code receivedAtNanos}, and says a broadcast it completes. */
    final void received(String payload, long receivedAtNanos) {
        long complete = receipts.onMessage(payload, receivedAtNanos, connected.get());
        if (complete >= 0) {
            onBroadcastComplete.accept(complete);
        }
    }

    /** Counters into a {@code stats} or {@code final} line: the shared ones, {@link #putOwnStats}, the receipts. */
    final void putStats(ObjectNode n) {
        n.put("proc", config.proc());
        n.put("devices", config.count());
        n.put("started", started.get());
        n.put("connected", connected.get());
        n.put("everConnected", firstConnects.get());
        n.put("disconnects", disconnects.get());
        n.put("startedAt", startedAtMicros.get());
        n.put("allConnectedAt", allConnectedAtMicros.get());
        putOwnStats(n);
        receipts.putCounts(n);
    }

    abstract void putOwnStats(ObjectNode n);

    /** From now on, single pushes sent in [fromMicros, toMicros) also count in latency window {@code name}. */
    final void window(String name, long fromMicros, long toMicros) {
        receipts.window(name, fromMicros, toMicros);
    }

    /** Broadcasts complete only now that fewer receivers are connected than when their last receipt came. */
    final List<Long> broadcastsCompleteNow() {
        return receipts.completeNow(connected.get());
    }

    /** Forgets what was received so far (between a warm-up and the measured run). */
    final void resetReceipts() {
        receipts.reset();
    }

    /** Latency histograms into a {@code final} line. */
    final void putHistograms(ObjectNode n) {
        receipts.putHistograms(n);
    }
}
