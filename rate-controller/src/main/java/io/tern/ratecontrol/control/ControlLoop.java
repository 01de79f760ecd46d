package io.tern.ratecontrol.control;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.ratecontrol.decision.ThrottleController;
import io.tern.ratecontrol.load.PlatformLoad;
import io.tern.store.lease.LeaderElection;
import io.tern.store.lease.LeaderLease;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.PermitUsageRepository;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The controller's tick, on one named thread. Every instance reads the platform's load (the live brokers'
 * deliveries and capacity straight from the registry, not a cached copy, so the load is at most one broker
 * heartbeat plus one tick old), the obeyers' gated rate, the lease holder and the directive: the admin API and the
 * metrics show them on any instance. The leader also decides ({@link ThrottleController}), writes a new version
 * fenced by its lease, replaces a stored directive that is not valid, and heartbeats every tick so obeyers know the
 * directive is being kept.
 */
public final class ControlLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlLoop.class);

    private final BrokerRegistry registry;
    private final PermitUsageRepository usage;
    private final DirectiveRepository directives;
    private final LeaderLease lease;
    private final LeaderElection election;
    private final ThrottleController controller;
    private final Map<String, Long> regionCaps;
    private final Clock clock;
    private final Duration tick;
    private final long callTimeoutMillis;
    private final long heartbeatHoldMillis;
    private final long minPermit;
    private final String by;
    private final String prefix;
    private final ScheduledExecutorService thread;
    private final Counter controllerChanges;
    private final Counter rejected;

    private volatile PlatformLoad load = PlatformLoad.NONE;
    private volatile ThrottleDirective directive = ThrottleDirective.NONE;
    private volatile String leaderId;
    private volatile long lastReadMillis = Long.MIN_VALUE;
    private boolean failing; // tick thread only

    public ControlLoop(BrokerRegistry registry, PermitUsageRepository usage, DirectiveRepository directives,
                       LeaderLease lease, LeaderElection election, ThrottleController controller,
                       Map<String, Long> regionCaps, Clock clock, Duration tick, Duration callTimeout,
                       Duration heartbeatHold, long minPermit, String id, MeterRegistry metrics) {
        this.registry = registry;
        this.usage = usage;
        this.directives = directives;
        this.lease = lease;
        this.election = election;
        this.controller = controller;
        this.regionCaps = Map.copyOf(regionCaps);
        this.clock = clock;
        this.tick = tick;
        this.callTimeoutMillis = callTimeout.toMillis();
        this.heartbeatHoldMillis = heartbeatHold.toMillis();
        this.minPermit = minPermit;
        this.by = "controller " + id;
        this.prefix = "[rate-controller " + id + "]";
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rate-controller-" + id + "-tick");
            t.setDaemon(true);
            return t;
        });
        this.controllerChanges = changes(metrics, ThrottleDirective.BY_CONTROLLER);
        this.rejected = Counter.builder("tern.ratecontrol.directive.rejected")
                .description("Stored directives that were not valid (e.g. a negative or absurd rate), replaced")
                .register(metrics);
        Gauge.builder("tern.ratecontrol.permit", this, l -> l.directive.permitPerSecond())
                .description("The directive's global permit, deliveries/s").register(metrics);
        Gauge.builder("tern.ratecontrol.state", this, l -> l.directive.state() == ThrottleState.THROTTLED ? 1 : 0)
                .description("1 while the directive throttles, 0 while open").register(metrics);
        Gauge.builder("tern.ratecontrol.capacity", this, l -> l.load.capacity())
                .description("Deliveries/s the live brokers can take (regions capped)").register(metrics);
        Gauge.builder("tern.ratecontrol.downstream", this, l -> l.load.downstream())
                .description("Deliveries/s the live brokers wrote over their last second").register(metrics);
        Gauge.builder("tern.ratecontrol.directive.version", this, l -> l.directive.version())
                .description("Version of the directive in force").register(metrics);
    }

    /** The counter of directive changes this instance wrote, by source (controller, sre). */
    public static Counter changes(MeterRegistry metrics, String source) {
        return Counter.builder("tern.ratecontrol.directive.changes")
                .description("Directive versions this instance wrote, by source").tag("source", source)
                .register(metrics);
    }

    /** Runs a first tick at once, then every tick. */
    public ControlLoop start() {
        thread.scheduleWithFixedDelay(this::tickSafely, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** The load as the last tick read it. */
    public PlatformLoad load() {
        return load;
    }

    /** The directive as the last tick read (or wrote) it; NONE when the stored one is not readable. */
    public ThrottleDirective directive() {
        return directive;
    }

    /** Id of the instance holding the controller lease at the last tick, or null. */
    public String leaderId() {
        return leaderId;
    }

    /** True when the last successful read is younger than three ticks plus a call timeout. */
    public boolean fresh() {
        long last = lastReadMillis;
        return last != Long.MIN_VALUE && clock.millis() - last <= 3 * tick.toMillis() + callTimeoutMillis;
    }

    private void tickSafely() {
        try {
            tickOnce();
            if (failing) {
                failing = false;
                log.info("{} reading the platform works again", prefix);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            if (!failing) {
                failing = true;
                log.warn("{} tick failed; the directive stays as stored: {}", prefix, cause.toString());
            } else {
                log.debug("{} tick failed again: {}", prefix, cause.toString());
            }
        }
    }

    /** One tick; public for tests that step the loop. */
    public void tickOnce() throws Exception {
        long now = clock.millis();
        List<BrokerInfo> brokers = get(registry.live());
        OptionalDouble gated = get(usage.gatedPerSecond(now));
        PlatformLoad current = PlatformLoad.of(brokers, regionCaps, gated, now);
        load = current;
        String holder = get(lease.holder());
        leaderId = holder == null ? null : holder.substring(0, Math.max(0, holder.indexOf('|')));
        ThrottleDirective stored;
        try {
            stored = get(directives.load());
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof IllegalStateException invalid)) {
                throw e;
            }
            stored = null;
            if (election.isLeader()) {
                replaceInvalid(invalid, current, now);
            } else {
                log.debug("{} stored directive is not valid; the leader replaces it: {}", prefix, invalid.getMessage());
            }
        }
        lastReadMillis = now;
        if (stored == null) {
            directive = ThrottleDirective.NONE;
        } else {
            directive = stored;
            if (election.isLeader()) {
                ThrottleDirective next = controller.decide(stored, current, now);
                if (next != null) {
                    write(next, stored);
                }
            }
        }
        if (election.isLeader()) {
            get(directives.heartbeat(now, heartbeatHoldMillis));
        }
    }

    private void replaceInvalid(IllegalStateException invalid, PlatformLoad current, long now) throws Exception {
        rejected.increment();
        long version = get(directives.storedVersion());
        ThrottleDirective next = controller.restart(version + 1, minPermit, current, now,
                "replaced a stored directive that was not valid");
        log.warn("{} stored directive version {} is not valid ({}); replacing it with version {}: {} {}/s", prefix,
                version, invalid.getMessage(), next.version(), next.state().wire(), next.permitPerSecond());
        write(next, null);
    }

    private void write(ThrottleDirective next, ThrottleDirective before) throws Exception {
        if (get(directives.replace(next, by, election.holder()))) {
            directive = next;
            controllerChanges.increment();
            log.info("{} directive v{}: {} {}/s ({}){}", prefix, next.version(), next.state().wire(),
                    next.permitPerSecond(), next.reason(),
                    before == null || before.version() == 0 ? "" : ", was " + before.state().wire() + " " + before.permitPerSecond() + "/s");
        } else {
            log.debug("{} directive v{} not stored: changed meanwhile or lease lost", prefix, next.version());
        }
    }

    private <T> T get(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(callTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw e;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(callTimeoutMillis + 1000, TimeUnit.MILLISECONDS)) {
                log.warn("{} tick thread did not stop in time", prefix);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
