package io.tern.ratecontrol.scale;

import io.tern.store.throttle.ReplicaFloor;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScaleDecisionTest {
    private static final long T0 = 1_000_000L;
    private final AtomicLong now = new AtomicLong(T0);
    /** min 1, 1000 records per replica, down after 5 minutes. */
    private final ScaleDecision decision = new ScaleDecision(1, 1000, Duration.ofMinutes(5), now::get);

    private void at(Duration sinceStart) {
        now.set(T0 + sinceStart.toMillis());
    }

    @Test
    void replicasAreLagOverLagPerReplicaRoundedUp() {
        assertEquals(3, decision.decide(2001, 12, List.of()).target());
        assertEquals(3, decision.decide(3000, 12, List.of()).target());
        assertEquals(4, decision.decide(3001, 12, List.of()).target());
    }

    @Test
    void noLagKeepsTheMinimum() {
        assertEquals(1, decision.decide(0, 12, List.of()).target());
        ScaleDecision none = new ScaleDecision(0, 1000, Duration.ofMinutes(5), now::get);
        assertEquals(0, none.decide(0, 12, List.of()).target());
    }

    @Test
    void replicasAreCappedAtThePartitionsOfTheBuffer() {
        ScaleDecision.Outcome o = decision.decide(1_000_000, 6, List.of());
        assertEquals(6, o.target());
        assertTrue(o.why().contains("capped at 6 partitions"), o.why());
        // A minimum above the partitions is capped as well: extra consumers would get no partition.
        ScaleDecision highMin = new ScaleDecision(10, 1000, Duration.ofMinutes(5), now::get);
        assertEquals(4, highMin.decide(0, 4, List.of()).target());
    }

    @Test
    void scalesUpAtOnce() {
        assertEquals(1, decision.decide(500, 12, List.of()).target());
        at(Duration.ofSeconds(5));
        ScaleDecision.Outcome up = decision.decide(8000, 12, List.of());
        assertEquals(8, up.target());
        assertTrue(up.changed());
        assertTrue(up.why().startsWith("up at once"), up.why());
    }

    @Test
    void scalesDownOnlyAfterTheLowerTargetHeldFiveMinutes() {
        assertEquals(8, decision.decide(8000, 12, List.of()).target());
        at(Duration.ofSeconds(10));
        ScaleDecision.Outcome first = decision.decide(2000, 12, List.of());
        assertEquals(8, first.target());
        assertEquals(2, first.wanted());
        assertFalse(first.changed());
        at(Duration.ofSeconds(10).plus(Duration.ofMinutes(5)).minusMillis(1));
        assertEquals(8, decision.decide(2000, 12, List.of()).target(), "one ms short of five minutes");
        at(Duration.ofSeconds(10).plus(Duration.ofMinutes(5)));
        ScaleDecision.Outcome down = decision.decide(2000, 12, List.of());
        assertEquals(2, down.target());
        assertTrue(down.changed());
        assertTrue(down.why().startsWith("down after"), down.why());
    }

    @Test
    void aScaleDownGoesToTheHighestTargetWantedWhileWaiting() {
        decision.decide(8000, 12, List.of());
        at(Duration.ofMinutes(1));
        decision.decide(2000, 12, List.of());
        at(Duration.ofMinutes(3));
        decision.decide(5000, 12, List.of());
        at(Duration.ofMinutes(4));
        decision.decide(1000, 12, List.of());
        at(Duration.ofMinutes(6));
        assertEquals(5, decision.decide(1000, 12, List.of()).target());
    }

    @Test
    void lagRisingBackToTheTargetRestartsTheWait() {
        decision.decide(8000, 12, List.of());
        at(Duration.ofMinutes(1));
        decision.decide(2000, 12, List.of());
        at(Duration.ofMinutes(4));
        assertEquals(8, decision.decide(8000, 12, List.of()).target());
        at(Duration.ofMinutes(5));
        decision.decide(2000, 12, List.of());
        at(Duration.ofMinutes(9));
        assertEquals(8, decision.decide(2000, 12, List.of()).target(), "four minutes since the lag fell again");
        at(Duration.ofMinutes(10));
        assertEquals(2, decision.decide(2000, 12, List.of()).target());
    }

    @Test
    void anActiveFloorRaisesTheTarget() {
        ReplicaFloor floor = new ReplicaFloor("peak", T0, T0 + 60_000, 5, "final");
        ScaleDecision.Outcome o = decision.decide(1000, 12, List.of(floor));
        assertEquals(5, o.target());
        assertEquals(5, o.wanted());
        assertTrue(o.why().startsWith("floor peak (5 replicas: final)"), o.why());
        // The lag wanting more than the floor wins.
        assertEquals(9, decision.decide(9000, 12, List.of(floor)).target());
    }

    @Test
    void theHighestOfSeveralFloorsCountsAndIsCappedAtThePartitions() {
        List<ReplicaFloor> floors = List.of(new ReplicaFloor("a", T0, T0 + 1, 3, ""),
                new ReplicaFloor("b", T0, T0 + 1, 20, ""), new ReplicaFloor("c", T0, T0 + 1, 4, ""));
        ScaleDecision.Outcome o = decision.decide(0, 12, floors);
        assertEquals(12, o.target());
        assertTrue(o.why().contains("floor b (20 replicas, capped at 12 partitions"), o.why());
    }

    @Test
    void aReleasedFloorLetsReplicasDownAfterTheDelay() {
        ReplicaFloor floor = new ReplicaFloor("peak", T0, T0 + 60_000, 6, "");
        assertEquals(6, decision.decide(0, 12, List.of(floor)).target());
        at(Duration.ofMinutes(1));
        assertEquals(6, decision.decide(0, 12, List.of()).target());
        at(Duration.ofMinutes(6));
        assertEquals(1, decision.decide(0, 12, List.of()).target());
    }

    @Test
    void aRestartStartsFromTheRunningReplicasAndWaitsBeforeCuttingThem() {
        decision.startFrom(7);
        ScaleDecision.Outcome o = decision.decide(0, 12, List.of());
        assertEquals(7, o.target());
        assertFalse(o.changed());
        at(Duration.ofMinutes(5));
        assertEquals(1, decision.decide(0, 12, List.of()).target());
    }
}
