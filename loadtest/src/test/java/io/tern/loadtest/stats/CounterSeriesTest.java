package io.tern.loadtest.stats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CounterSeriesTest {

    @Test
    void peakIsTheHighestPerSecondRateBetweenReportsAtLeastAWindowApart() {
        CounterSeries s = new CounterSeries();
        s.add(1_000, 0);
        s.add(2_000, 100);
        s.add(3_000, 600);  // 500/s in this second
        s.add(4_000, 900);
        CounterSeries.Peak p = s.peak(0, 10_000, 1_000);
        assertEquals(500.0, p.perSecond(), 1e-9);
        assertEquals(3_000, p.atMillis());
    }

    @Test
    void aReportThatComesEarlyIsPairedWithTheNextOneSoItMakesNoHalfSecondSpike() {
        CounterSeries s = new CounterSeries();
        s.add(0, 0);
        s.add(500, 300);    // 300 in half a second would read as 600/s
        s.add(1_000, 400);
        s.add(2_000, 800);
        CounterSeries.Peak p = s.peak(0, 10_000, 1_000);
        assertEquals(400.0, p.perSecond(), 1e-9, "0..1000: 400/s; 500..2000: 333/s; 1000..2000: 400/s");
    }

    @Test
    void peakOnlyLooksInsideTheGivenTimeRange() {
        CounterSeries s = new CounterSeries();
        s.add(0, 0);
        s.add(1_000, 1_000); // 1000/s before the range
        s.add(2_000, 1_100);
        s.add(3_000, 1_300);
        assertEquals(200.0, s.peak(1_000, 3_000, 1_000).perSecond(), 1e-9);
        assertEquals(CounterSeries.Peak.NONE, s.peak(2_500, 3_000, 1_000), "no two readings a window apart");
    }

    @Test
    void deltaUsesTheLastReadingAtOrBeforeEachBound() {
        CounterSeries s = new CounterSeries();
        s.add(1_000, 10);
        s.add(2_000, 30);
        s.add(3_000, 70);
        assertEquals(60, s.delta(0, 5_000), "before the first reading counts from the first");
        assertEquals(40, s.delta(2_500, 3_000));
        assertEquals(0, s.delta(2_000, 2_999));
    }

    @Test
    void aCounterThatRestartsFromZeroContinuesInsteadOfGoingNegative() {
        CounterSeries s = new CounterSeries();
        s.add(0, 0);
        s.add(1_000, 500);
        s.add(2_000, 50); // the process restarted and counted 50 since
        assertEquals(550, s.last());
        assertEquals(50.0, s.peak(1_000, 2_000, 1_000).perSecond(), 1e-9);
    }

    @Test
    void activeSecondsSpanTheReadingsInWhichTheCounterGrew() {
        CounterSeries s = new CounterSeries();
        s.add(0, 0);
        s.add(1_000, 0);
        s.add(2_000, 10);   // grew in (1000, 2000]
        s.add(3_000, 10);
        s.add(4_000, 30);   // and in (3000, 4000]
        s.add(5_000, 30);
        assertEquals(3.0, s.activeSeconds(0, 10_000), 1e-9, "from the reading before the first growth to the last");
        assertEquals(0.0, s.activeSeconds(4_500, 10_000), 1e-9);
    }

    @Test
    void readingsThatAreNotNewerAreIgnored() {
        CounterSeries s = new CounterSeries();
        s.add(1_000, 5);
        assertFalse(s.add(1_000, 7));
        assertFalse(s.add(900, 9));
        assertEquals(1, s.size());
        assertEquals(5, s.last());
        assertThrows(IllegalArgumentException.class, () -> s.peak(0, 1, 0));
    }
}
