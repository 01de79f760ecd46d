package io.tern.ratecontrol.scale;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.store.throttle.ReplicaFloor;
import io.tern.store.throttle.ReplicaFloorRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The scaling loop: every {@code interval}, while this controller leads, reads the buffer's lag and partitions
 * and the floors open now, lets {@link ScaleDecision} pick the replicas and sets them on the {@link ReplicaTarget}
 * when they differ from what runs. Runs on its own thread: the target's calls may block.
 *
 * <p>Floors are read from Redis on every tick rather than armed as timers, so a floor written while no
 * controller ran, or before this one restarted, acts from its start to its end all the same.
 */
public final class Scaler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scaler.class);

    /**
     * What GET /v1/scale shows.
     *
     * @param replicas replicas asked for on the target at the last tick (-1 before the first)
     * @param lag      buffer lag at the last tick (-1 unknown)
     * @param last     the last decision (null before the first, or when this instance does not lead)
     * @param error    why the last tick could not decide, else null
     */
    public record Status(String target, boolean leading, int replicas, long lag, int partitions,
                         List<ReplicaFloor> activeFloors, ScaleDecision.Outcome last, String error, long atMillis) {
    }

    private final ScaleDecision decision;
    private final ReplicaTarget target;
    private final LongSupplier lag;
    private final IntSupplier partitions;
    private final ReplicaFloorRepository floors;
    private final BooleanSupplier leading;
    private final LongSupplier clock;
    private final Duration interval;
    private final Duration readTimeout;
    private final String owner;
    private final ScheduledExecutorService loop;
    private final Counter up;
    private final Counter down;
    private volatile Status status;
    private volatile int gaugeTarget = -1;
    private volatile boolean wasLeading;

    /**
     * @param lag         records of {@code tern.buffer} the bypass consumers have not committed (may throw: no decision)
     * @param partitions  partitions of {@code tern.buffer} (may throw: no decision)
     * @param leading     true while this controller holds the lease: only the leader scales
     * @param readTimeout bound on reading the floors
     */
    public Scaler(ScaleDecision decision, ReplicaTarget target, LongSupplier lag, IntSupplier partitions,
                  ReplicaFloorRepository floors, BooleanSupplier leading, LongSupplier clock, Duration interval,
                  Duration readTimeout, MeterRegistry registry, String owner) {
        this.decision = decision;
        this.target = target;
        this.lag = lag;
        this.partitions = partitions;
        this.floors = floors;
        this.leading = leading;
        this.clock = clock;
        this.interval = interval;
        this.readTimeout = readTimeout;
        this.owner = owner;
        this.status = new Status(target.describe(), false, -1, -1, -1, List.of(), null, "not started", clock.getAsLong());
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, owner + "-scaler");
            t.setDaemon(true);
            return t;
        });
        Gauge.builder("tern.scale.target.replicas", () -> gaugeTarget)
                .description("bypass-consumer replicas the scaler decided (-1 before its first decision)").register(registry);
        Gauge.builder("tern.scale.replicas", () -> status.replicas())
                .description("bypass-consumer replicas asked for on the target at the last tick").register(registry);
        Gauge.builder("tern.scale.lag", () -> status.lag())
                .description("records of tern.buffer not yet committed by the bypass consumers (-1 unknown)").register(registry);
        this.up = Counter.builder("tern.scale.decisions").tag("direction", "up")
                .description("replica changes the scaler made").register(registry);
        this.down = Counter.builder("tern.scale.decisions").tag("direction", "down")
                .description("replica changes the scaler made").register(registry);
    }

    public Scaler start() {
        loop.scheduleWithFixedDelay(this::tickSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        log.info("[{}] scaling {} every {}", owner, target.describe(), interval);
        return this;
    }

    public Status status() {
        return status;
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            status = new Status(target.describe(), leading.getAsBoolean(), status.replicas(), status.lag(),
                    status.partitions(), status.activeFloors(), status.last(), e.toString(), clock.getAsLong());
            log.warn("[{}] scaling tick failed (next tick retries): {}", owner, e.toString());
        }
    }

    /** One round: read, decide, act. Public for tests that drive the clock. */
    public synchronized Status tick() {
        long now = clock.getAsLong();
        if (!leading.getAsBoolean()) {
            if (wasLeading) {
                // Another instance decides now; if this one leads again it starts from what runs then.
                decision.forget();
                wasLeading = false;
            }
            status = new Status(target.describe(), false, status.replicas(), status.lag(), status.partitions(),
                    status.activeFloors(), null, null, now);
            return status;
        }
        wasLeading = true;
        int running = target.replicas();
        decision.startFrom(running);
        long backlog = lag.getAsLong();
        int parts = partitions.getAsInt();
        List<ReplicaFloor> open;
        try {
            open = floors.active(now).get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted reading replica floors", e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read replica floors: " + e, e);
        }
        ScaleDecision.Outcome outcome = decision.decide(backlog, parts, open);
        gaugeTarget = outcome.target();
        int asked = running;
        if (outcome.target() != running) {
            asked = target.setReplicas(outcome.target());
            if (asked != running) {
                (asked > running ? up : down).increment();
            }
            log.info("[{}] {} replicas {} -> {}: {}", owner, target.describe(), running, asked, outcome.why());
        }
        status = new Status(target.describe(), true, asked, backlog, parts, open, outcome, null, now);
        return status;
    }

    /** Stops the loop and closes the target (local processes are stopped; a Deployment keeps its replicas). */
    @Override
    public void close() {
        loop.shutdownNow();
        try {
            loop.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        target.close();
    }
}
