package io.tern.loadtest.scenario;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MoveEstimateTest {

    @Test
    void theMoveRateBindsWhenTheTargetsCanAdmitMore() {
        MoveEstimate e = new MoveEstimate(1_000_000, 500, 30, 2_000, 1.0);
        assertEquals(60_000, e.admissionCapacity());
        assertEquals(500, e.pace(), 1e-9);
        assertEquals(2_000, e.seconds(), 1e-9);
        assertEquals("move rate", e.bound());
        assertEquals(500.0 / 30, e.perBroker(), 1e-9);
    }

    @Test
    void theAdmissionCapsBindWhenTheMoveRateIsAboveThem() {
        MoveEstimate e = new MoveEstimate(1_000_000, 100_000, 30, 2_000, 1.0);
        assertEquals(60_000, e.pace(), 1e-9);
        assertEquals(1_000_000 / 60_000.0, e.seconds(), 1e-9);
        assertEquals("admission caps", e.bound());
        assertEquals(2_000, e.perBroker(), 1e-9);
    }

    @Test
    void measuredEfficiencySlowsThePaceAndShowsInTheArithmetic() {
        MoveEstimate e = new MoveEstimate(20_000, 500, 1, 2_000, 0.8);
        assertEquals(400, e.pace(), 1e-9);
        assertEquals(50, e.seconds(), 1e-9);
        assertEquals("20,000 devices ÷ (min(move rate 500/s, admission caps 1 × 2,000/s = 2,000/s) × measured "
                + "efficiency 0.80 = 400/s) = 50 s (0.8 min); bound by the move rate; 400 admissions/s per target broker",
                e.explain());
    }

    @Test
    void anUncappedTargetLeavesOnlyTheMoveRate() {
        MoveEstimate e = new MoveEstimate(1_000, 100, 2, 0, 1.0);
        assertEquals(Long.MAX_VALUE, e.admissionCapacity());
        assertEquals(10, e.seconds(), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> new MoveEstimate(1, 0, 1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new MoveEstimate(1, 1, 1, 0, 1.5));
    }
}
