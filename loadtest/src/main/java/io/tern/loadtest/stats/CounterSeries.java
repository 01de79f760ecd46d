package io.tern.loadtest.stats;

import java.util.ArrayList;
import java.util.List;

/**
 * Readings of one cumulative counter over time (e.g. a broker's admitted connects, as its registry
 * reports say), for rates: the change between two times, and the peak rate over any stretch of at
 * least a minimum length. A reading older than the last one is ignored; a counter that goes down
 * (its process restarted from zero) continues from where it was, so deltas never go negative.
 * Thread-safe.
 */
public final class CounterSeries {
    /** The highest rate found and the end of the stretch it was measured over (epoch ms; 0 when none). */
    public record Peak(double perSecond, long atMillis) {
        public static final Peak NONE = new Peak(0, 0);
    }

    private final List<long[]> readings = new ArrayList<>(); // {atMillis, value with offset}
    private long offset;
    private long lastRaw;

    /** @return false when the reading is not newer than the last one (and was ignored) */
    public synchronized boolean add(long atMillis, long value) {
        if (!readings.isEmpty()) {
            long[] last = readings.get(readings.size() - 1);
            if (atMillis <= last[0]) {
                return false;
            }
            if (value < lastRaw) {
                offset += lastRaw;
            }
        }
        lastRaw = value;
        readings.add(new long[]{atMillis, value + offset});
        return true;
    }

    public synchronized int size() {
        return readings.size();
    }

    /** The latest reading's value (with restarts added up), 0 with none. */
    public synchronized long last() {
        return readings.isEmpty() ? 0 : readings.get(readings.size() - 1)[1];
    }

    /**
     * How much the counter grew from {@code fromMillis} to {@code toMillis}: the last reading at or before
     * each bound (the first reading when none is before {@code fromMillis}).
     */
    public synchronized long delta(long fromMillis, long toMillis) {
        if (readings.isEmpty()) {
            return 0;
        }
        return valueAt(toMillis) - valueAt(fromMillis);
    }

    private long valueAt(long atMillis) {
        long v = readings.get(0)[1];
        for (long[] r : readings) {
            if (r[0] > atMillis) {
                break;
            }
            v = r[1];
        }
        return v;
    }

    /**
     * Seconds from the first reading in [fromMillis, toMillis] that shows the counter grown to the last one
     * that does, i.e. how long it was moving there (0 when it moved in at most one reading).
     */
    public synchronized double activeSeconds(long fromMillis, long toMillis) {
        long first = 0;
        long last = 0;
        long[] prev = null;
        for (long[] r : readings) {
            if (r[0] > toMillis) {
                break;
            }
            if (prev != null && r[0] >= fromMillis && r[1] > prev[1]) {
                if (first == 0) {
                    first = Math.max(prev[0], fromMillis);
                }
                last = r[0];
            }
            prev = r;
        }
        return first == 0 ? 0 : (last - first) / 1e3;
    }

    /**
     * The highest rate between two readings inside [fromMillis, toMillis] that are at least
     * {@code minWindowMillis} apart, taking for each reading the nearest later one that far away (so a
     * one-second window on one-second reports is the per-second rate, and reports that come a little
     * early do not make a half-second spike).
     */
    public synchronized Peak peak(long fromMillis, long toMillis, long minWindowMillis) {
        if (minWindowMillis < 1) {
            throw new IllegalArgumentException("minWindowMillis must be at least 1, got " + minWindowMillis);
        }
        Peak best = Peak.NONE;
        int j = 0;
        for (int i = 0; i < readings.size(); i++) {
            long[] a = readings.get(i);
            if (a[0] < fromMillis) {
                continue;
            }
            j = Math.max(j, i + 1);
            while (j < readings.size() && readings.get(j)[0] - a[0] < minWindowMillis) {
                j++;
            }
            if (j >= readings.size() || readings.get(j)[0] > toMillis) {
                break;
            }
            long[] b = readings.get(j);
            double rate = (b[1] - a[1]) * 1000.0 / (b[0] - a[0]);
            if (rate > best.perSecond()) {
                best = new Peak(rate, b[0]);
            }
        }
        return best;
    }
}
