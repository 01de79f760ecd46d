package io.tern.loadtest.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.stats.EpochClock;
import io.tern.loadtest.stats.Histogram;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the devices of one process received: counts, and latency histograms in microseconds.
 * Single pushes: receipt time minus the send time in the payload ({@code t}). Broadcasts: one
 * histogram per broadcast number {@code k}, receipt time minus the payload's {@code t}; the runner
 * re-bases them on the time it called the API. Receipt times come from the SDK
 * ({@link io.tern.client.PushMessage#receivedAtNanos()}: when the frame was read), or for a Redis subscriber from
 * when its message was decoded.
 */
final class Receipts {
    private final Histogram single = new Histogram();
    private final Map<Long, Histogram> broadcasts = new TreeMap<>();
    /** Broadcasts whose receipts reached the online devices (each said once since the last reset). */
    private final Set<Long> complete = new HashSet<>();
    /** Named intended-send-time windows (e.g. a region move) with their own single-push latency histogram. */
    private final Map<String, Window> windows = new TreeMap<>();
    private long received;
    private long unmatched;
    private long firstReceiptMicros;
    private long lastReceiptMicros;

    /**
     * Records a message with payload {@code p} read at {@code receivedAtNanos} ({@link System#nanoTime}); returns
     * its broadcast number when this receipt is the one that made the broadcast's receipts reach {@code online}
     * (the receivers connected now), else -1.
     */
    synchronized long onMessage(String p, long receivedAtNanos, int online) {
        long recv = EpochClock.toEpochMicros(receivedAtNanos);
        received++;
        if (firstReceiptMicros == 0) {
            firstReceiptMicros = recv;
        }
        lastReceiptMicros = Math.max(lastReceiptMicros, recv);
        long t = Payloads.longField(p, "t");
        if (t == Payloads.ABSENT) {
            unmatched++;
            return -1;
        }
        long k = Payloads.longField(p, "k");
        if (k == Payloads.ABSENT) {
            single.record(recv - t);
            for (Window w : windows.values()) {
                if (t >= w.fromMicros && t < w.toMicros) {
                    w.latency.record(recv - t);
                }
            }
            return -1;
        }
        Histogram h = broadcasts.computeIfAbsent(k, x -> new Histogram());
        h.record(recv - t);
        return h.count() >= online && complete.add(k) ? k : -1;
    }

    /**
     * Broadcasts not said complete yet whose receipts reach {@code online} now (devices went away after their
     * receipts came), marked complete.
     */
    synchronized List<Long> completeNow(int online) {
        List<Long> out = new ArrayList<>();
        broadcasts.forEach((k, h) -> {
            if (h.count() >= online && complete.add(k)) {
                out.add(k);
            }
        });
        return out;
    }

    /**
     * Sets (or moves the bounds of) latency window {@code name}: single pushes whose intended send time is in
     * [fromMicros, toMicros) are recorded in it too. Bounds may be moved later (a move's end is known only
     * when it is over); what was recorded stays.
     */
    synchronized void window(String name, long fromMicros, long toMicros) {
        Window w = windows.computeIfAbsent(name, n -> new Window());
        w.fromMicros = fromMicros;
        w.toMicros = toMicros;
    }

    /** Forgets everything received so far (between a warm-up and the measured run). */
    synchronized void reset() {
        single.reset();
        broadcasts.clear();
        complete.clear();
        windows.clear();
        received = 0;
        unmatched = 0;
        firstReceiptMicros = 0;
        lastReceiptMicros = 0;
    }

    synchronized long received() {
        return received;
    }

    synchronized void putCounts(ObjectNode n) {
        n.put("received", received);
        n.put("unmatched", unmatched);
        n.put("firstReceiptAt", firstReceiptMicros);
        n.put("lastReceiptAt", lastReceiptMicros);
    }

    synchronized void putHistograms(ObjectNode n) {
        n.put("single", single.encode());
        ObjectNode b = n.putObject("broadcasts");
        broadcasts.forEach((k, h) -> b.put(Long.toString(k), h.encode()));
        ObjectNode w = n.putObject("windows");
        windows.forEach((name, win) -> w.put(name, win.latency.encode()));
    }

    private static final class Window {
        final Histogram latency = new Histogram();
        long fromMicros;
        long toMicros;
    }
}
