package io.tern.loadtest.stats;

import java.util.Arrays;

/**
 * A latency histogram in microseconds: exact below 256 µs, then 128 sub-buckets per power of two
 * (relative error under 0.8 %), up to about 2^50 µs. Fixed size (about 50 KiB), no allocation per
 * value, mergeable across processes through {@link #encode()} / {@link #decode(String)}, and
 * shiftable by a constant ({@link #shifted(long)}) so a device process can record against one
 * reference time and the runner can re-base the values on another.
 *
 * <p>Count, sum, min and max are exact; percentiles are bucket midpoints. Not thread-safe unless
 * used through {@link #recordSynchronized(long)}.
 */
public final class Histogram {
    private static final int EXACT = 256;
    private static final int SUB = 128;
    private static final int MAX_EXPONENT = 43;
    private static final int SIZE = EXACT + MAX_EXPONENT * SUB;
    private static final long MAX_VALUE = ((long) (2 * SUB) << MAX_EXPONENT) - 1;

    private final long[] counts = new long[SIZE];
    private long count;
    private long sum;
    private long min = Long.MAX_VALUE;
    private long max = Long.MIN_VALUE;
    /** Values below zero (clamped to 0): a clock problem, reported rather than hidden. */
    private long negatives;

    public void record(long micros) {
        if (micros < 0) {
            negatives++;
            micros = 0;
        }
        long v = Math.min(micros, MAX_VALUE);
        counts[index(v)]++;
        count++;
        sum += v;
        if (v < min) {
            min = v;
        }
        if (v > max) {
            max = v;
        }
    }

    public synchronized void recordSynchronized(long micros) {
        record(micros);
    }

    static int index(long v) {
        if (v < EXACT) {
            return (int) v;
        }
        int e = 63 - Long.numberOfLeadingZeros(v) - 7; // v >> e in [128, 255]
        return EXACT + (e - 1) * SUB + (int) ((v >> e) - SUB);
    }

    /** Lowest value that falls into bucket {@code i}. */
    static long lowerBound(int i) {
        if (i < EXACT) {
            return i;
        }
        int e = (i - EXACT) / SUB + 1;
        long m = (i - EXACT) % SUB + SUB;
        return m << e;
    }

    /** Middle of bucket {@code i}: the value reported for everything in it. */
    static long representative(int i) {
        if (i < EXACT) {
            return i;
        }
        int e = (i - EXACT) / SUB + 1;
        return lowerBound(i) + ((1L << e) >> 1);
    }

    public synchronized void add(Histogram other) {
        Histogram o = other.copy();
        for (int i = 0; i < SIZE; i++) {
            counts[i] += o.counts[i];
        }
        count += o.count;
        sum += o.sum;
        negatives += o.negatives;
        if (o.count > 0) {
            min = Math.min(min, o.min);
            max = Math.max(max, o.max);
        }
    }

    public synchronized Histogram copy() {
        Histogram h = new Histogram();
        System.arraycopy(counts, 0, h.counts, 0, SIZE);
        h.count = count;
        h.sum = sum;
        h.min = min;
        h.max = max;
        h.negatives = negatives;
        return h;
    }

    /**
     * Every value minus {@code delta} (values that would turn negative count as negatives, at 0).
     * Bucketed values move by their bucket's midpoint; count, sum, min and max move exactly.
     */
    public synchronized Histogram shifted(long delta) {
        Histogram h = new Histogram();
        for (int i = 0; i < SIZE; i++) {
            long c = counts[i];
            if (c == 0) {
                continue;
            }
            long v = representative(i) - delta;
            if (v < 0) {
                h.negatives += c;
                v = 0;
            }
            h.counts[index(Math.min(v, MAX_VALUE))] += c;
        }
        h.count = count;
        h.negatives += negatives;
        if (count > 0) {
            h.sum = sum - delta * count;
            h.min = Math.max(0, min - delta);
            h.max = Math.max(0, max - delta);
        }
        return h;
    }

    public synchronized long count() {
        return count;
    }

    public synchronized long negatives() {
        return negatives;
    }

    public synchronized long max() {
        return count == 0 ? 0 : max;
    }

    public synchronized long min() {
        return count == 0 ? 0 : min;
    }

    public synchronized double mean() {
        return count == 0 ? 0 : (double) sum / count;
    }

    /** The value at or below which {@code p} percent of the values fall (0 &lt; p ≤ 100); 0 when empty. */
    public synchronized long percentile(double p) {
        if (count == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(p / 100.0 * count));
        long seen = 0;
        for (int i = 0; i < SIZE; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.max(min, Math.min(max, representative(i)));
            }
        }
        return max;
    }

    /** Compact text form: {@code count,sum,min,max,negatives;index:count,index:count,...}. */
    public synchronized String encode() {
        StringBuilder sb = new StringBuilder(64);
        sb.append(count).append(',').append(sum).append(',').append(min).append(',').append(max).append(',')
                .append(negatives).append(';');
        boolean first = true;
        for (int i = 0; i < SIZE; i++) {
            if (counts[i] != 0) {
                if (!first) {
                    sb.append(',');
                }
                sb.append(i).append(':').append(counts[i]);
                first = false;
            }
        }
        return sb.toString();
    }

    public static Histogram decode(String s) {
        Histogram h = new Histogram();
        if (s == null || s.isEmpty()) {
            return h;
        }
        int semi = s.indexOf(';');
        String[] head = s.substring(0, semi).split(",");
        h.count = Long.parseLong(head[0]);
        h.sum = Long.parseLong(head[1]);
        h.min = Long.parseLong(head[2]);
        h.max = Long.parseLong(head[3]);
        h.negatives = Long.parseLong(head[4]);
        String body = s.substring(semi + 1);
        if (!body.isEmpty()) {
            for (String pair : body.split(",")) {
                int colon = pair.indexOf(':');
                h.counts[Integer.parseInt(pair.substring(0, colon))] = Long.parseLong(pair.substring(colon + 1));
            }
        }
        return h;
    }

    public synchronized void reset() {
        Arrays.fill(counts, 0);
        count = 0;
        sum = 0;
        min = Long.MAX_VALUE;
        max = Long.MIN_VALUE;
        negatives = 0;
    }
}
