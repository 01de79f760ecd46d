package io.tern.scheduler.move;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.tern.scheduler.policy.PolicyStep;
import io.tern.store.region.Region;
import io.tern.store.region.RegionMove;
import io.tern.store.region.RegionPolicy;
import io.tern.store.region.RegionPolicyRepository;
import io.tern.store.region.RegionPolicyWatcher;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The scheduler's tick, on one named thread: every instance observes the moves (for its metrics and
 * its admin API's progress figures); the leader also writes the steps {@link MoveCoordinator} names, each
 * a compare-and-set of the policy. A write that loses the race is retried from a fresh read next tick.
 * The leader reads the policy from Redis itself (its own last write must be the base of its next);
 * followers use the watcher's copy.
 */
public final class MoveDriver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MoveDriver.class);
    /** Steps written in one tick at most (a burst of region additions, say); the rest wait a tick. */
    private static final int MAX_STEPS_PER_TICK = 8;

    private final RegionPolicyRepository repository;
    private final RegionPolicyWatcher watcher;
    private final BrokerDirectory directory;
    private final BooleanSupplier leader;
    private final MoveCoordinator coordinator;
    private final Clock clock;
    private final Duration tick;
    private final Duration readTimeout;
    private final String prefix;
    private final ScheduledExecutorService thread;

    private final MultiGauge moveLeft;
    private final MultiGauge moveMoved;
    private final MultiGauge moveStage;
    private final MultiGauge movePaused;
    private final MultiGauge moveRate;
    private final MultiGauge regionConnections;
    private final MultiGauge regionBrokers;
    private final Counter steps;
    private final Counter conflicts;
    private volatile long policyVersion;
    private volatile Map<String, MoveFigures> figures = Map.of();
    private boolean failing; // tick thread only

    public MoveDriver(RegionPolicyRepository repository, RegionPolicyWatcher watcher, BrokerDirectory directory,
                      BooleanSupplier leader, MoveCoordinator coordinator, Clock clock, Duration tick,
                      Duration readTimeout, MeterRegistry registry, String schedulerId) {
        this.repository = repository;
        this.watcher = watcher;
        this.directory = directory;
        this.leader = leader;
        this.coordinator = coordinator;
        this.clock = clock;
        this.tick = tick;
        this.readTimeout = readTimeout;
        this.prefix = "[global-scheduler " + schedulerId + " moves]";
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "global-scheduler-" + schedulerId + "-moves");
            t.setDaemon(true);
            return t;
        });
        moveLeft = MultiGauge.builder("tern.scheduler.move.left")
                .description("Covered devices still on the brokers they are leaving, by moving region").register(registry);
        moveMoved = MultiGauge.builder("tern.scheduler.move.moved")
                .description("Covered devices gone since the move began, by moving region").register(registry);
        moveStage = MultiGauge.builder("tern.scheduler.move.stage")
                .description("Stage of the move under way (0-based), by moving region").register(registry);
        movePaused = MultiGauge.builder("tern.scheduler.move.paused")
                .description("1 while the region's move is paused").register(registry);
        moveRate = MultiGauge.builder("tern.scheduler.move.rate")
                .description("Observed devices moved per second, by moving region").register(registry);
        regionConnections = MultiGauge.builder("tern.scheduler.region.connections")
                .description("Connections on the live brokers of each region").register(registry);
        regionBrokers = MultiGauge.builder("tern.scheduler.region.brokers")
                .description("Live brokers in each region").register(registry);
        io.micrometer.core.instrument.Gauge.builder("tern.scheduler.policy.version", this, d -> d.policyVersion)
                .description("Version of the region policy last seen").register(registry);
        steps = Counter.builder("tern.scheduler.steps").description("Policy steps written by this instance as leader")
                .register(registry);
        conflicts = Counter.builder("tern.scheduler.step.conflicts")
                .description("Steps refused because the policy had changed meanwhile (retried next tick)").register(registry);
    }

    public MoveDriver start() {
        long ms = tick.toMillis();
        thread.scheduleWithFixedDelay(this::tick, 0, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    /** Progress figures of the moves under way as of the last tick, by moving region. */
    public Map<String, MoveFigures> figures() {
        return figures;
    }

    private void tick() {
        try {
            boolean leading = leader.getAsBoolean();
            RegionPolicy policy = leading ? repository.load().get(readTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    : watcher.current();
            BrokerSnapshot snapshot = directory.snapshot();
            long now = clock.millis();
            coordinator.observe(policy, snapshot, now);
            publish(policy, snapshot);
            if (leading && directory.fresh()) {
                drive(policy, snapshot, now);
            }
            if (failing) {
                failing = false;
                log.info("{} reading the policy works again", prefix);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (!failing) {
                failing = true;
                log.warn("{} tick failed, retrying every {}: {}", prefix, tick, e.toString());
            }
        }
    }

    private void drive(RegionPolicy policy, BrokerSnapshot snapshot, long now) throws Exception {
        for (int i = 0; i < MAX_STEPS_PER_TICK && leader.getAsBoolean(); i++) {
            PolicyStep step = coordinator.next(policy, snapshot, now);
            if (step == null) {
                return;
            }
            boolean stored = repository.replace(step.next(), step.change())
                    .get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!stored) {
                conflicts.increment();
                log.debug("{} version {} was taken meanwhile; reading again next tick", prefix, step.next().version());
                return;
            }
            steps.increment();
            log.info("{} version {}: {} {}: {}", prefix, step.next().version(), step.change().action(),
                    step.change().region(), step.change().detail());
            policy = step.next();
            policyVersion = policy.version();
            watcher.refreshSoon();
        }
    }

    private void publish(RegionPolicy policy, BrokerSnapshot snapshot) {
        policyVersion = Math.max(policyVersion, policy.version());
        Map<String, long[]> byRegion = new TreeMap<>(); // region -> {brokers, connections}
        for (BrokerInfo b : snapshot.brokers()) {
            long[] v = byRegion.computeIfAbsent(b.region(), k -> new long[2]);
            v[0]++;
            v[1] += b.connections();
        }
        List<MultiGauge.Row<?>> brokers = new ArrayList<>();
        List<MultiGauge.Row<?>> connections = new ArrayList<>();
        byRegion.forEach((region, v) -> {
            brokers.add(MultiGauge.Row.of(Tags.of("region", region), v[0]));
            connections.add(MultiGauge.Row.of(Tags.of("region", region), v[1]));
        });
        regionBrokers.register(brokers, true);
        regionConnections.register(connections, true);

        Map<String, MoveFigures> next = new TreeMap<>();
        List<MultiGauge.Row<?>> left = new ArrayList<>();
        List<MultiGauge.Row<?>> moved = new ArrayList<>();
        List<MultiGauge.Row<?>> stage = new ArrayList<>();
        List<MultiGauge.Row<?>> paused = new ArrayList<>();
        List<MultiGauge.Row<?>> rate = new ArrayList<>();
        for (Region r : policy.regions()) {
            RegionMove move = r.move();
            if (move == null) {
                continue;
            }
            MoveFigures f = coordinator.figures(r.name(), move, snapshot);
            next.put(r.name(), f);
            Tags tags = Tags.of("region", r.name());
            left.add(MultiGauge.Row.of(tags, f.left()));
            moved.add(MultiGauge.Row.of(tags, f.moved()));
            stage.add(MultiGauge.Row.of(tags, move.stage()));
            paused.add(MultiGauge.Row.of(tags, move.paused() ? 1 : 0));
            rate.add(MultiGauge.Row.of(tags, f.currentRatePerSecond()));
        }
        figures = Map.copyOf(next);
        moveLeft.register(left, true);
        moveMoved.register(moved, true);
        moveStage.register(stage, true);
        movePaused.register(paused, true);
        moveRate.register(rate, true);
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(readTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
