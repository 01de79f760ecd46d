package io.tern.scheduler.move;

import io.tern.scheduler.policy.PolicyStep;
import io.tern.scheduler.policy.RegionCommands;
import io.tern.store.region.Region;
import io.tern.store.region.RegionMove;
import io.tern.store.region.RegionPolicy;
import io.tern.store.region.RegionState;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerSnapshot;
import io.tern.store.registry.ConnectStats;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The move coordinator as a pure function of policy, broker reports and time (no Redis, no clock of its own). */
class MoveCoordinatorTest {
    private static final List<Double> STAGES = List.of(0.01, 0.05, 0.25, 1.0);
    private static final long WINDOW = 5_000;
    private static final long RESUME_AFTER = 5_000;
    private static final long T0 = 1_780_000_000_000L;
    private static final long STALL = 3_000;

    private final MoveCoordinator coordinator = new MoveCoordinator(STAGES, 0.01, 1_000, RESUME_AFTER, WINDOW,
            List.of("north", "south"), "scheduler:s1", STALL);
    private final RegionCommands commands = new RegionCommands(STAGES, 1, 100_000);
    private long now = T0;

    private static BrokerInfo broker(String id, String region, int connections, Map<String, Integer> homes,
                                     ConnectStats connects) {
        return new BrokerInfo(id, region, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", connections, T0, homes, connects, null);
    }

    private static BrokerSnapshot snapshot(BrokerInfo... brokers) {
        return new BrokerSnapshot(List.of(brokers), T0);
    }

    private static RegionPolicy twoRegions() {
        return new RegionPolicy(1, T0, List.of(Region.active("north"), Region.active("south")));
    }

    private RegionPolicy failover(RegionPolicy policy) {
        return commands.failover(policy, Set.of("north", "south"), Map.of("north", 2, "south", 1), "north", "south",
                500, "drill", "sre", now).next();
    }

    /** Observes, then applies steps until none is due; returns the actions taken. */
    private List<String> tick(RegionPolicy[] policy, BrokerSnapshot snapshot) {
        coordinator.observe(policy[0], snapshot, now);
        List<String> actions = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            PolicyStep step = coordinator.next(policy[0], snapshot, now);
            if (step == null) {
                break;
            }
            assertEquals(policy[0].version() + 1, step.next().version(), "each step is the next version");
            assertEquals("scheduler:s1", step.change().by());
            actions.add(step.change().action());
            policy[0] = step.next();
        }
        return actions;
    }

    private static ConnectStats healthy(long admitted) {
        return new ConnectStats(admitted, 0, 0, 20, 1000);
    }

    @Test
    void firstTickRecordsCoveredDevicesThenStagesAdvanceAsDevicesLeaveAndTheLastEndsFailedOver() {
        RegionPolicy[] policy = {failover(twoRegions())};
        BrokerInfo south = broker("b3", "south", 0, Map.of(), healthy(0));
        List<String> actions = tick(policy, snapshot(broker("b1", "north", 600, Map.of(), null),
                broker("b2", "north", 400, Map.of(), null), south));
        assertEquals(List.of("start"), actions);
        RegionMove move = policy[0].region("north").move();
        assertEquals(1000L, move.coveredAtStart(), "covered = every session on the moving region's brokers");
        assertEquals(0, move.stage());

        now += 1000;
        // 1 % of 1000 is 10: 991 left is not enough.
        assertEquals(List.of(), tick(policy, snapshot(broker("b1", "north", 595, Map.of(), null),
                broker("b2", "north", 396, Map.of(), null), south)));
        now += 1000;
        // 990 left: stage 0 done; 5 % needs <= 950 -> one stage only.
        assertEquals(List.of("stage"), tick(policy, snapshot(broker("b1", "north", 594, Map.of(), null),
                broker("b2", "north", 396, Map.of(), null), south)));
        move = policy[0].region("north").move();
        assertEquals(1, move.stage());
        assertEquals(0.05, move.stageFraction());
        assertEquals(1000L, move.coveredAtStart(), "stages are measured against the count at the start");

        now += 1000;
        // 700 left satisfies 5 % and 25 %: one stage per step, both in this tick.
        assertEquals(List.of("stage", "stage"), tick(policy, snapshot(broker("b1", "north", 400, Map.of(), null),
                broker("b2", "north", 300, Map.of(), null), south)));
        assertEquals(3, policy[0].region("north").move().stage());
        assertEquals(1.0, policy[0].region("north").move().stageFraction());

        now += 1000;
        assertEquals(List.of(), tick(policy, snapshot(broker("b1", "north", 1, Map.of(), null),
                broker("b2", "north", 0, Map.of(), null), south)), "the last stage ends at zero, not before");
        now += 1000;
        assertEquals(List.of(), tick(policy, snapshot(broker("b1", "north", 0, Map.of(), null),
                broker("b2", "north", 0, Map.of(), null), south)), "the first zero may be a stale report");
        now += STALL;
        assertEquals(List.of("done"), tick(policy, snapshot(broker("b1", "north", 0, Map.of(), null),
                broker("b2", "north", 0, Map.of(), null), south)), "zero for the stall time: done");
        Region north = policy[0].region("north");
        assertEquals(RegionState.FAILED_OVER, north.state());
        assertEquals("south", north.servedBy());
        assertNull(north.move());
        assertNotNull(north.lastMove());
        assertEquals(now, north.lastMove().finishedAtMillis());
        assertEquals(1000L, north.lastMove().coveredAtStart());
    }

    @Test
    void failbackCountsOnlyTheRegionsOwnDevicesOnTheServingBrokersAndEndsActive() {
        RegionPolicy failedOver = new RegionPolicy(5, T0, List.of(
                new Region("north", RegionState.FAILED_OVER, "south", null), Region.active("south")));
        RegionPolicy[] policy = {commands.failback(failedOver, Set.of("north", "south"), "north", 500, "back", "sre", now)
                .next()};
        RegionMove started = policy[0].region("north").move();
        assertEquals("south", started.from());
        assertEquals("north", started.to());
        BrokerInfo north = broker("b1", "north", 0, Map.of(), healthy(0));
        tick(policy, snapshot(broker("b3", "south", 900, Map.of("north", 300, "south", 600), null), north));
        assertEquals(300L, policy[0].region("north").move().coveredAtStart(), "only devices whose home is north");

        for (int i = 0; i < 3 + STALL / 500; i++) {
            now += 500;
            tick(policy, snapshot(broker("b3", "south", 600, Map.of("south", 600), null), north));
        }
        Region back = policy[0].region("north");
        assertEquals(RegionState.ACTIVE, back.state());
        assertEquals("north", back.servedBy());
        assertNull(back.move());
        assertEquals(RegionMove.Direction.FAILBACK, back.lastMove().direction());
    }

    @Test
    void pausesWhenTargetConnectFailuresExceedOnePercentAndResumesAfterStayingHealthy() {
        RegionPolicy[] policy = {failover(twoRegions())};
        BrokerInfo north = broker("b1", "north", 1000, Map.of(), null);
        tick(policy, snapshot(north, broker("b3", "south", 0, Map.of(), new ConnectStats(0, 0, 0, 10, 1000))));
        now += 1000;
        // 200 connects, 2 refused + 1 failed: 1.5 % > 1 %.
        List<String> actions = tick(policy, snapshot(north,
                broker("b3", "south", 200, Map.of(), new ConnectStats(197, 2, 1, 10, 1000))));
        assertEquals(List.of("pause"), actions);
        RegionMove move = policy[0].region("north").move();
        assertTrue(move.paused());
        assertTrue(move.pausedReason().contains("1.5 %"), move.pausedReason());

        // Brokers stop redirecting: no new connects. The bad ones stay in the window for 5 s.
        now += 2000;
        assertEquals(List.of(), tick(policy, snapshot(north,
                broker("b3", "south", 200, Map.of(), new ConnectStats(197, 2, 1, 10, 1000)))));
        assertTrue(policy[0].region("north").move().paused());
        // The failures leave the window at T0+6s: healthy from then, resumed 5 s later.
        for (int i = 0; i < 8; i++) {
            now += 1000;
            List<String> a = tick(policy, snapshot(north,
                    broker("b3", "south", 200, Map.of(), new ConnectStats(197, 2, 1, 10, 1000))));
            if (now - T0 < 6000 + RESUME_AFTER) {
                assertEquals(List.of(), a, "still paused at +" + (now - T0) + " ms");
            }
        }
        move = policy[0].region("north").move();
        assertFalse(move.paused(), "resumed after " + RESUME_AFTER + " ms of healthy figures");
        assertNull(move.pausedReason());
    }

    @Test
    void aFewFailuresWithinOnePercentDoNotPause() {
        RegionPolicy[] policy = {failover(twoRegions())};
        BrokerInfo north = broker("b1", "north", 1000, Map.of(), null);
        tick(policy, snapshot(north, broker("b3", "south", 0, Map.of(), new ConnectStats(0, 0, 0, 10, 1000))));
        now += 1000;
        assertEquals(List.of(), tick(policy, snapshot(north,
                broker("b3", "south", 200, Map.of(), new ConnectStats(199, 1, 1, 10, 1000)))), "1 %: not above it");
        assertFalse(policy[0].region("north").move().paused());
    }

    @Test
    void pausesWhenTargetConnectP99ExceedsOneSecond() {
        RegionPolicy[] policy = {failover(twoRegions())};
        BrokerInfo north = broker("b1", "north", 1000, Map.of(), null);
        tick(policy, snapshot(north, broker("b3", "south", 0, Map.of(), healthy(0)),
                broker("b4", "south", 0, Map.of(), healthy(0))));
        now += 1000;
        List<String> actions = tick(policy, snapshot(north, broker("b3", "south", 10, Map.of(), healthy(10)),
                broker("b4", "south", 10, Map.of(), new ConnectStats(10, 0, 0, 1400, 1000))));
        assertEquals(List.of("pause"), actions);
        assertTrue(policy[0].region("north").move().pausedReason().contains("p99 1400 ms > 1000 ms"),
                policy[0].region("north").move().pausedReason());
    }

    @Test
    void observedRateIsTheDecreaseOfLeftPerSecondOverTheWindow() {
        RegionPolicy[] policy = {failover(twoRegions())};
        BrokerInfo south = broker("b3", "south", 0, Map.of(), healthy(0));
        tick(policy, snapshot(broker("b1", "north", 1000, Map.of(), null), south));
        RegionMove move = policy[0].region("north").move();
        for (int i = 1; i <= 4; i++) {
            now += 1000;
            tick(policy, snapshot(broker("b1", "north", 1000 - 100 * i, Map.of(), null), south));
        }
        MoveFigures f = coordinator.figures("north", policy[0].region("north").move(),
                snapshot(broker("b1", "north", 600, Map.of(), null), south));
        assertEquals(600, f.left());
        assertEquals(400, f.moved());
        assertEquals(100.0, f.currentRatePerSecond(), 0.001);
        assertEquals(move.id(), policy[0].region("north").move().id());
    }

    @Test
    void regionsConfiguredOrReportedByBrokersAreAddedToThePolicyAsActive() {
        RegionPolicy[] policy = {RegionPolicy.EMPTY};
        List<String> actions = tick(policy, snapshot(broker("b9", "east", 0, Map.of(), null)));
        assertEquals(List.of("add", "add", "add"), actions, "one region per step");
        assertEquals(Set.of("north", "south", "east"), policy[0].byName().keySet());
        assertTrue(policy[0].regions().stream().allMatch(r -> r.state() == RegionState.ACTIVE && r.move() == null));
        assertEquals(List.of(), tick(policy, snapshot(broker("b9", "east", 0, Map.of(), null))));
    }

    @Test
    void aStageTheBrokersFinishedEndsWhenNoDeviceLeftForTheStallTimeEvenIfTheSchedulersCountWasLower() {
        RegionPolicy[] policy = {failover(twoRegions())};
        BrokerInfo south = broker("b3", "south", 0, Map.of(), healthy(0));
        // The report the scheduler starts from is a heartbeat old: 997 of the 1,000 the broker counts.
        assertEquals(List.of("start"), tick(policy, snapshot(broker("b1", "north", 997, Map.of(), null), south)));
        now += 1000;
        // The broker moved its 1 % (10 of its 1,000): 990 left, but 1 % of 997 needs <= 987.03.
        assertEquals(List.of(), tick(policy, snapshot(broker("b1", "north", 990, Map.of(), null), south)));
        now += 2000;
        assertEquals(List.of(), tick(policy, snapshot(broker("b1", "north", 990, Map.of(), null), south)),
                "not before the stall time");
        now += 1000;
        assertEquals(List.of("stage"), tick(policy, snapshot(broker("b1", "north", 990, Map.of(), null), south)));
        assertEquals(1, policy[0].region("north").move().stage());
    }

    @Test
    void aMoveWhoseFirstReportsMissedADeviceIsNotDoneUntilThatDeviceHasLeft() {
        RegionPolicy[] policy = {failover(twoRegions())};
        BrokerInfo south = broker("b3", "south", 0, Map.of(), healthy(0));
        // The device connected to north just before the failover; north's last report predates it.
        assertEquals(List.of("start", "stage", "stage", "stage"),
                tick(policy, snapshot(broker("b1", "north", 0, Map.of(), null), south)));
        now += 1000;
        assertEquals(List.of(), tick(policy, snapshot(broker("b1", "north", 1, Map.of(), null), south)),
                "the next report shows it: not done");
        now += 2 * STALL;
        assertEquals(List.of(), tick(policy, snapshot(broker("b1", "north", 1, Map.of(), null), south)),
                "still there: the move keeps running, so north's broker redirects it");
        assertEquals(RegionState.FAILING_OVER, policy[0].region("north").state());
        now += 500;
        tick(policy, snapshot(broker("b1", "north", 0, Map.of(), null), south));
        now += STALL;
        assertEquals(List.of("done"), tick(policy, snapshot(broker("b1", "north", 0, Map.of(), null), south)));
        assertEquals(RegionState.FAILED_OVER, policy[0].region("north").state());
    }
}
