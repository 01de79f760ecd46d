package io.tern.scheduler.move;

import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.ConnectStats;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Brokers' cumulative connect counters as sampled over the last {@code windowMillis}: what a target
 * region's brokers admitted, refused and failed within the window is the newest report minus the
 * oldest kept. A broker whose counters went down restarted: its samples start over. At most one sample
 * per observation is kept per broker, and only for brokers still live.
 */
final class ConnectWindow {
    private record Sample(long atMillis, ConnectStats stats) {
    }

    /** Connects of one region's brokers within the window, and the worst current p99. */
    record Figures(long admitted, long refused, long failed, long maxP99Millis) {
        long attempts() {
            return admitted + refused + failed;
        }

        double failureRatio() {
            long all = attempts();
            return all == 0 ? 0 : (double) (refused + failed) / all;
        }
    }

    private final long windowMillis;
    private final Map<String, Deque<Sample>> byBroker = new HashMap<>();

    ConnectWindow(long windowMillis) {
        this.windowMillis = windowMillis;
    }

    void observe(Iterable<BrokerInfo> live, Set<String> liveIds, long now) {
        byBroker.keySet().retainAll(liveIds);
        for (BrokerInfo b : live) {
            Deque<Sample> samples = byBroker.computeIfAbsent(b.id(), k -> new ArrayDeque<>());
            Sample last = samples.peekLast();
            ConnectStats s = b.connects();
            if (last != null && (s.admitted() < last.stats.admitted() || s.refused() < last.stats.refused()
                    || s.failed() < last.stats.failed())) {
                samples.clear();
            }
            samples.addLast(new Sample(now, s));
            // Keep the newest sample at or before the window's start as the baseline.
            while (samples.size() >= 2 && secondOf(samples).atMillis <= now - windowMillis) {
                samples.removeFirst();
            }
        }
    }

    Figures figures(Iterable<BrokerInfo> regionBrokers) {
        long admitted = 0;
        long refused = 0;
        long failed = 0;
        long p99 = 0;
        for (BrokerInfo b : regionBrokers) {
            Deque<Sample> samples = byBroker.get(b.id());
            if (samples == null || samples.isEmpty()) {
                continue;
            }
            ConnectStats first = samples.peekFirst().stats;
            ConnectStats last = samples.peekLast().stats;
            admitted += last.admitted() - first.admitted();
            refused += last.refused() - first.refused();
            failed += last.failed() - first.failed();
            p99 = Math.max(p99, last.p99Millis());
        }
        return new Figures(admitted, refused, failed, p99);
    }

    private static Sample secondOf(Deque<Sample> samples) {
        var it = samples.iterator();
        it.next();
        return it.next();
    }
}
