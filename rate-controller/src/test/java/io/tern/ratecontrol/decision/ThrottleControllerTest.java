package io.tern.ratecontrol.decision;

import io.tern.ratecontrol.load.PlatformLoad;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.ConnectStats;
import io.tern.store.registry.DeliveryStats;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThrottleControllerTest {
    private static final long DWELL = 10_000;
    private static final long TICK = 250;
    private static final long T0 = 1_780_000_000_000L; // a fixed "now"; only differences matter
    private final ThrottleController controller = new ThrottleController(0.8, 0.6, DWELL, 0.1, 100, 10_000_000);

    private static PlatformLoad load(long capacity, double downstream, OptionalDouble gated) {
        return new PlatformLoad(List.of(), capacity, downstream, gated, T0);
    }

    private static PlatformLoad load(long capacity, double downstream) {
        return load(capacity, downstream, OptionalDouble.empty());
    }

    private static ThrottleDirective open(long permit, long at) {
        return new ThrottleDirective(5, ThrottleState.OPEN, permit, ThrottleDirective.BY_CONTROLLER, "", at);
    }

    @Test
    void theFirstDirectiveIsWrittenAtOnceOpenAtEightyPercentOfCapacity() {
        ThrottleDirective d = controller.decide(ThrottleDirective.NONE, load(10_000, 1_000), T0);
        assertNotNull(d);
        assertEquals(1, d.version());
        assertEquals(ThrottleState.OPEN, d.state());
        assertEquals(8_000, d.permitPerSecond());
        assertEquals(ThrottleDirective.BY_CONTROLLER, d.source());
        assertEquals(T0, d.issuedAtMillis());
    }

    @Test
    void throttlesAtEightyPercentLeavingRoomForTheUngatedLoad() {
        ThrottleDirective current = open(8_000, T0 - DWELL);
        assertNull(controller.decide(current, load(10_000, 7_999, OptionalDouble.of(7_999)), T0), "just below the mark");
        ThrottleDirective d = controller.decide(current, load(10_000, 8_500, OptionalDouble.of(6_500)), T0);
        assertEquals(ThrottleState.THROTTLED, d.state());
        assertEquals(8_000 - 2_000, d.permitPerSecond(), "0.8 x capacity minus the 2000/s the permit does not gate");
        assertEquals(6, d.version());
    }

    @Test
    void withoutObeyerReportsAllLoadCountsAsUngatedAndThePermitFallsToItsFloor() {
        ThrottleDirective d = controller.decide(open(8_000, T0 - DWELL), load(10_000, 9_000), T0);
        assertEquals(ThrottleState.THROTTLED, d.state());
        assertEquals(100, d.permitPerSecond(), "max(min-permit, 8000 - 9000)");
        assertTrue(d.reason().contains("no obeyer reports"), d.reason());
    }

    @Test
    void releasesOnlyBelowSixtyPercent() {
        ThrottleDirective throttled = new ThrottleDirective(7, ThrottleState.THROTTLED, 6_000,
                ThrottleDirective.BY_CONTROLLER, "", T0 - DWELL);
        assertNull(controller.decide(throttled, load(10_000, 6_500, OptionalDouble.of(4_500)), T0),
                "between the marks with the same permit: no change");
        ThrottleDirective d = controller.decide(throttled, load(10_000, 5_900, OptionalDouble.of(5_900)), T0);
        assertEquals(ThrottleState.OPEN, d.state());
        assertEquals(8_000, d.permitPerSecond());
    }

    @Test
    void noChangeSoonerThanTheDwellAfterTheDirectiveInForce() {
        ThrottleDirective current = open(8_000, T0);
        assertNull(controller.decide(current, load(10_000, 9_500), T0 + DWELL - 1));
        assertNotNull(controller.decide(current, load(10_000, 9_500), T0 + DWELL));
    }

    @Test
    void theThrottledPermitFollowsTheHighestUngatedLoadOfTheLastDwell() {
        ThrottleDirective throttled = new ThrottleDirective(7, ThrottleState.THROTTLED, 6_000,
                ThrottleDirective.BY_CONTROLLER, "", T0 - DWELL);
        ThrottleDirective d = controller.decide(throttled, load(10_000, 8_000, OptionalDouble.of(5_000)), T0);
        assertEquals(5_000, d.permitPerSecond(), "3000/s ungated");
        // A dip in the ungated load does not raise the permit while the 3000/s peak is within the dwell...
        assertNull(controller.decide(d, load(10_000, 7_000, OptionalDouble.of(6_000)), T0 + DWELL - 1));
        // ...and does once the peak has aged out.
        ThrottleDirective raised = controller.decide(d, load(10_000, 7_000, OptionalDouble.of(6_000)), T0 + DWELL + 1);
        assertEquals(7_000, raised.permitPerSecond());
        assertTrue(raised.reason().contains("ungated 1000/s"), raised.reason());
    }

    @Test
    void aPermitChangeWithinTheStepIsNotWorthAVersion() {
        ThrottleDirective current = open(8_000, T0 - DWELL);
        assertNull(controller.decide(current, load(10_500, 100), T0), "8400 is within 10 % of 8000");
        assertNull(controller.decide(current, load(11_000, 100), T0), "8800: exactly 10 % is not more than the step");
        ThrottleDirective d = controller.decide(current, load(11_500, 100), T0);
        assertEquals(9_200, d.permitPerSecond());
        assertEquals(ThrottleState.OPEN, d.state());
    }

    @Test
    void followsCapacityWhenBrokersComeAndGo() {
        ThrottleDirective current = open(8_000, T0 - DWELL);
        // Half the brokers die: the same 5000/s is now 100 % of the capacity left.
        ThrottleDirective d = controller.decide(current, load(5_000, 5_000, OptionalDouble.of(4_000)), T0);
        assertEquals(ThrottleState.THROTTLED, d.state());
        assertEquals(4_000 - 1_000, d.permitPerSecond());
        // They come back and more join: 5000/s of 20000 is 25 %: open at 16000.
        ThrottleDirective after = controller.decide(d, load(20_000, 5_000, OptionalDouble.of(4_000)), T0 + DWELL);
        assertEquals(ThrottleState.OPEN, after.state());
        assertEquals(16_000, after.permitPerSecond());
        // All brokers gone: nothing to measure against, the directive stays.
        assertNull(controller.decide(after, load(0, 0), T0 + 2 * DWELL));
    }

    @Test
    void capacityIsSummedPerRegionAndCappedWhereConfigured() {
        List<BrokerInfo> brokers = List.of(broker("b1", "eu", 4_000, 1_000), broker("b2", "eu", 4_000, 500),
                broker("b3", "us", 6_000, 2_000), broker("old", "us", 0, 100));
        PlatformLoad l = PlatformLoad.of(brokers, Map.of("eu", 5_000L, "ap", 1L), OptionalDouble.of(3_000), T0);
        assertEquals(5_000 + 6_000, l.capacity(), "eu capped at 5000 of its 8000; us 6000 (the old broker adds none)");
        assertEquals(3_600, l.downstream(), 1e-9);
        assertEquals(600, l.ungated(), 1e-9);
        assertEquals(2, l.regions().size());
        assertEquals(5_000, l.regions().get(0).capacity());
        assertEquals(5_000, l.regions().get(0).cappedBy());
        assertEquals(2, l.regions().get(1).brokers());
        assertEquals(0, l.regions().get(1).cappedBy());
    }

    @Test
    void anSreDirectiveIsLeftAlone() {
        ThrottleDirective sre = new ThrottleDirective(9, ThrottleState.THROTTLED, 50, ThrottleDirective.BY_SRE,
                "drill", T0 - 10 * DWELL);
        assertNull(controller.decide(sre, load(10_000, 100), T0));
        assertNull(controller.decide(sre, load(10_000, 9_900), T0));
    }

    @Test
    void restartingWithoutHistoryDecidesFromTheLoadAlone() {
        ThrottleDirective d = controller.restart(12, 50, load(10_000, 7_000), T0, "released by sre");
        assertEquals(12, d.version());
        assertEquals(ThrottleState.OPEN, d.state(), "70 % is below the throttle mark");
        assertEquals(8_000, d.permitPerSecond());
        assertTrue(d.reason().startsWith("released by sre; "), d.reason());
        assertEquals(50, controller.restart(12, 50, load(0, 0), T0, "released").permitPerSecond(),
                "no capacity known: keeps the rate it had");
    }

    /**
     * Load the permit does not control (reconnect storms, redeliveries) swinging between 75 % and 85 % every 2 s
     * for ten minutes: at most one change per dwell.
     */
    @Test
    void loadOscillatingAroundEightyPercentChangesTheDirectiveNoMoreThanTheDwellAllows() {
        long minutes = 10;
        List<ThrottleDirective> changes = simulate(minutes, t -> {
            double phase = (t / 2_000) % 2 == 0 ? 0.75 : 0.85;
            return new double[]{0, phase * 10_000};
        }, true);
        long allowed = minutes * 60_000 / DWELL + 1;
        assertTrue(changes.size() <= allowed, changes.size() + " changes, the dwell allows " + allowed);
        for (int i = 1; i < changes.size(); i++) {
            assertTrue(changes.get(i).issuedAtMillis() - changes.get(i - 1).issuedAtMillis() >= DWELL);
        }
        // Once throttled, 75 % never reaches the release mark: the state stays throttled; the permit leaves room for
        // the highest ungated load of the last dwell (8500/s), so it does not swing with the load.
        ThrottleDirective last = changes.get(changes.size() - 1);
        assertEquals(ThrottleState.THROTTLED, last.state());
        assertEquals(100, last.permitPerSecond());
        assertEquals(2, changes.size(), "open, then throttled once: " + changes);
    }

    /**
     * A steady overload (obeyers want 3 x capacity, 10 % comes ungated), closed loop: the downstream follows the
     * permit. With the obeyers' reports the controller throttles once and holds.
     */
    @Test
    void aSteadyOverloadMakesOnlyAFewChangesAMinute() {
        long minutes = 10;
        List<ThrottleDirective> changes = simulate(minutes, t -> new double[]{30_000, 1_000}, true);
        assertTrue(changes.size() <= 3, "changes over " + minutes + " minutes: " + changes);
        ThrottleDirective last = changes.get(changes.size() - 1);
        assertEquals(ThrottleState.THROTTLED, last.state());
        assertEquals(7_000, last.permitPerSecond(), "0.8 x 10000 minus the 1000/s ungated");
    }

    /** The conservative case (no reports): it cannot tell its own traffic from the rest, so it cycles — at dwell pace. */
    @Test
    void aSteadyOverloadWithoutObeyerReportsCyclesNoFasterThanTheDwell() {
        long minutes = 10;
        List<ThrottleDirective> changes = simulate(minutes, t -> new double[]{30_000, 1_000}, false);
        assertTrue(changes.size() <= minutes * 60_000 / DWELL + 1, changes.size() + " changes");
    }

    /**
     * Runs the controller every tick against a platform of capacity 10000/s whose downstream is the ungated load
     * plus whatever of the gated demand the permit lets through.
     *
     * @param demand time since start -> {gated demand, ungated}
     */
    private List<ThrottleDirective> simulate(long minutes, java.util.function.LongFunction<double[]> demand,
                                             boolean reports) {
        List<ThrottleDirective> changes = new ArrayList<>();
        ThrottleDirective current = ThrottleDirective.NONE;
        for (long t = 0; t <= minutes * 60_000; t += TICK) {
            double[] d = demand.apply(t);
            double gated = current.version() == 0 ? d[0] : Math.min(d[0], current.permitPerSecond());
            double downstream = gated + d[1];
            PlatformLoad l = load(10_000, downstream, reports ? OptionalDouble.of(gated) : OptionalDouble.empty());
            ThrottleDirective next = controller.decide(current, l, T0 + t);
            if (next != null) {
                changes.add(next);
                current = next;
            }
        }
        return changes;
    }

    private static BrokerInfo broker(String id, String region, int capacity, double perSecond) {
        return new BrokerInfo(id, region, "h:1", "ws://h:2/ws", "h:3", 0, 0, Map.of(), ConnectStats.NONE,
                new DeliveryStats(0, perSecond, capacity));
    }
}
