package io.tern.loadtest.stats;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HistogramTest {

    @Test
    void exactBelow256AndWithinOnePercentAbove() {
        Histogram h = new Histogram();
        for (long v = 0; v < 256; v++) {
            assertEquals(v, Histogram.representative(Histogram.index(v)));
        }
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 100_000; i++) {
            long v = r.nextLong(256, 1L << 40);
            long rep = Histogram.representative(Histogram.index(v));
            assertTrue(Math.abs(rep - v) <= v / 100, v + " reported as " + rep);
            assertTrue(Histogram.lowerBound(Histogram.index(v)) <= v);
        }
        h.record(5);
        assertEquals(5, h.percentile(50));
    }

    @Test
    void percentilesCountsAndMax() {
        Histogram h = new Histogram();
        for (int v = 1; v <= 1000; v++) {
            h.record(v * 1000L);
        }
        assertEquals(1000, h.count());
        assertEquals(1_000_000, h.max());
        assertEquals(500_000, h.percentile(50), 500_000 / 100.0);
        assertEquals(990_000, h.percentile(99), 990_000 / 100.0);
        assertEquals(1_000_000, h.percentile(100));
    }

    @Test
    void encodeDecodeAndMergeKeepEverything() {
        Histogram a = new Histogram();
        Histogram b = new Histogram();
        a.record(10);
        a.record(20_000);
        b.record(-3);
        b.record(7_000_000);
        Histogram merged = Histogram.decode(a.encode());
        merged.add(Histogram.decode(b.encode()));
        assertEquals(4, merged.count());
        assertEquals(1, merged.negatives());
        assertEquals(7_000_000, merged.max());
        assertEquals(0, merged.min());
        assertEquals(0, Histogram.decode("").count());
    }

    @Test
    void shiftMovesValuesAndCountsNegatives() {
        Histogram h = new Histogram();
        h.record(1_000);
        h.record(50_000);
        Histogram s = h.shifted(2_000);
        assertEquals(2, s.count());
        assertEquals(1, s.negatives());
        assertEquals(48_000, s.max());
        assertEquals(48_000, s.percentile(100), 48_000 / 100.0);
    }
}
