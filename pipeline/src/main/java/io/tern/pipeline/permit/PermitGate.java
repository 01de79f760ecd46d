package io.tern.pipeline.permit;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.store.redis.RedisStore;
import io.tern.store.throttle.ThrottleDirective;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * This obeyer's share of the global permit, as a local token bucket: share = permit x this obeyer's weight / the
 * live obeyers' weights summed (busy or idle, see {@code PermitObeyers}: an obeyer that asked for no permit for
 * {@code idle-after} leaves most of it to those that did), holding {@code burst} of it. Re-rated on every watcher
 * tick where the directive, the weights or the controller's liveness changed. While the controller's heartbeat is
 * older than {@code hold-last}, or no directive was ever written, the share is the configured fallback rate instead.
 *
 * <p>The bucket is Bucket4j's lock-free local bucket: correct under concurrent callers, re-rated in place keeping
 * the tokens it holds, with no thread of its own. Intake asks with {@link #tryAcquire} (never waits: a push beyond
 * the permit goes to the buffer); a drain waits with {@link #acquire}, which may run into debt for a cost above a
 * second's share so a large task is not starved behind smaller ones.
 */
public final class PermitGate implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PermitGate.class);
    /** An acquire that has to wait looks again at least this often, so a raised permit frees it promptly. */
    private static final long MAX_WAIT_STEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /**
     * The rate in force: how it was decided and what it allows this obeyer.
     *
     * @param busy whether this obeyer weighs in as busy (its share is then the larger one)
     */
    public record Share(double perSecond, boolean fallback, long directiveVersion, long permitPerSecond, long obeyers,
                        boolean busy, String why) {
    }

    private final PermitConfig config;
    private final DirectiveWatcher watcher;
    private final LongSupplier clock;
    private final String prefix;
    private final Bucket bucket;
    private final ScheduledExecutorService waits;
    private volatile Share share;
    private final LongAdder granted = new LongAdder();
    private final LongSupplier nanoTime;
    /** When a permit was last asked for (granted or not): whether this obeyer is busy. */
    private volatile long askedAtNanos;

    private PermitGate(PermitConfig config, DirectiveWatcher watcher, LongSupplier clock, LongSupplier nanoTime,
                       String obeyerId) {
        this.config = config;
        this.watcher = watcher;
        this.clock = clock;
        this.prefix = "[" + obeyerId + " permit]";
        this.nanoTime = nanoTime;
        this.askedAtNanos = nanoTime.getAsLong() - config.idleAfter().toNanos();
        this.share = new Share(config.fallbackRate(), true, 0, 0, 1, false, "starting");
        this.bucket = Bucket.builder().addLimit(limit(config.fallbackRate()))
                .withCustomTimePrecision(new TimeMeter() {
                    @Override
                    public long currentTimeNanos() {
                        return nanoTime.getAsLong();
                    }

                    @Override
                    public boolean isWallClockBased() {
                        return false;
                    }
                }).build();
        this.waits = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, obeyerId.replace(' ', '-') + "-permit-waits");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts watching the directive (first read before returning) and registers the gauges
     * {@code tern.permit.rate}, {@code tern.permit.directive.version} and {@code tern.permit.fallback}.
     */
    public static PermitGate start(RedisStore redis, PermitConfig config, Duration readTimeout, String obeyerId,
                                   LongSupplier clock, MeterRegistry registry) {
        return start(new DirectiveWatcher(redis, config, readTimeout, obeyerId, clock), config, clock, System::nanoTime,
                obeyerId, registry);
    }

    /**
     * @param obeyerId unique among obeyers, e.g. "logic l1": its registration and its log prefix
     * @param clock    epoch ms, for the heartbeat's age
     * @param nanoTime the bucket's time (monotonic ns)
     */
    public static PermitGate start(DirectiveWatcher watcher, PermitConfig config, LongSupplier clock,
                                   LongSupplier nanoTime, String obeyerId, MeterRegistry registry) {
        PermitGate gate = new PermitGate(config, watcher, clock, nanoTime, obeyerId);
        Gauge.builder("tern.permit.rate", gate, g -> g.share.perSecond())
                .description("deliveries/s this obeyer's share of the permit allows").register(registry);
        Gauge.builder("tern.permit.directive.version", gate, g -> g.share.directiveVersion())
                .description("version of the throttle directive obeyed (0: none)").register(registry);
        Gauge.builder("tern.permit.fallback", gate, g -> g.share.fallback() ? 1 : 0)
                .description("1 while the fallback rate applies (no live controller or no directive)").register(registry);
        Gauge.builder("tern.permit.rejected", watcher, DirectiveWatcher::rejected)
                .description("stored directives ignored as invalid").register(registry);
        watcher.reportUsageOf(gate.granted::sum);
        watcher.weighBy(gate::busy);
        watcher.start(gate::rerate);
        return gate;
    }

    /** Takes {@code n} permits if the bucket holds them now; never waits. */
    public boolean tryAcquire(long n) {
        requirePositive(n);
        askedAtNanos = nanoTime.getAsLong();
        double perSecond = share.perSecond();
        if (perSecond <= 0) {
            return false;
        }
        long capacity = capacity(perSecond);
        if (n <= capacity ? bucket.tryConsume(n) : takeIntoDebt(n, capacity)) {
            granted.add(n);
            return true;
        }
        return false;
    }

    /**
     * A cost above the bucket's size (a list push) passes only when the bucket is full, and leaves the bucket in debt:
     * what follows waits until it is paid, so the share holds on average and a big push is not buffered for ever.
     */
    private boolean takeIntoDebt(long n, long capacity) {
        synchronized (bucket) {
            if (bucket.getAvailableTokens() < capacity) {
                return false;
            }
            bucket.consumeIgnoringRateLimits(n);
            return true;
        }
    }

    /**
     * Completes once {@code n} permits are granted; never blocks the caller. A cost up to a second's share waits
     * until the bucket holds it; a larger one is granted at once into debt and completes when the debt is paid, so
     * later acquires wait behind it. While the permit is 0 nothing is granted (looked at again every 100 ms).
     */
    public CompletableFuture<Void> acquire(long n) {
        requirePositive(n);
        CompletableFuture<Void> granted = new CompletableFuture<>();
        attempt(n, granted);
        return granted;
    }

    private void attempt(long n, CompletableFuture<Void> granted) {
        if (granted.isDone()) {
            return; // cancelled by the caller
        }
        askedAtNanos = nanoTime.getAsLong(); // still waiting: still busy
        long waitNanos;
        if (share.perSecond() <= 0) {
            waitNanos = MAX_WAIT_STEP_NANOS;
        } else if (n <= capacity(share.perSecond())) {
            ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(n);
            if (probe.isConsumed()) {
                this.granted.add(n);
                granted.complete(null);
                return;
            }
            waitNanos = Math.min(Math.max(1, probe.getNanosToWaitForRefill()), MAX_WAIT_STEP_NANOS);
        } else {
            long debtNanos = bucket.consumeIgnoringRateLimits(n);
            this.granted.add(n);
            if (debtNanos <= 0) {
                granted.complete(null);
            } else {
                schedule(() -> granted.complete(null), debtNanos, granted);
            }
            return;
        }
        schedule(() -> attempt(n, granted), waitNanos, granted);
    }

    private void schedule(Runnable r, long nanos, CompletableFuture<Void> granted) {
        try {
            waits.schedule(r, nanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            granted.completeExceptionally(new IllegalStateException("permit gate closed"));
        }
    }

    /** The share in force now. */
    public Share share() {
        return share;
    }

    /** Stored directives refused as invalid so far. */
    public long rejectedDirectives() {
        return watcher.rejected();
    }

    long watcherTicks() {
        return watcher.ticks();
    }

    /** Asked for a permit within {@code idle-after}. */
    boolean busy() {
        return nanoTime.getAsLong() - askedAtNanos < config.idleAfter().toNanos();
    }

    /** Healthy when obeying a directive read recently, or openly on the fallback rate. */
    public boolean healthy() {
        return share.fallback() || watcher.fresh();
    }

    /** For /health: which of the two, and the rate. */
    public String describe() {
        Share s = share;
        return s.fallback() ? "fallback " + s.perSecond() + "/s: " + s.why()
                : "directive v" + s.directiveVersion() + " " + s.permitPerSecond() + "/s shared by " + s.obeyers()
                + String.format(Locale.ROOT, ", %.1f/s here (%s)", s.perSecond(), s.busy() ? "busy" : "idle")
                + (watcher.fresh() ? "" : " (stale: directive reads failing)");
    }

    /** Recomputes the share from the watcher's last reads and re-rates the bucket when it changed. */
    void rerate() {
        ThrottleDirective d = watcher.directive();
        long now = clock.getAsLong();
        long heartbeat = watcher.heartbeatMillis();
        long obeyers = watcher.liveObeyers();
        Share next;
        boolean busy = watcher.weighsBusy();
        if (d.version() == 0) {
            next = new Share(config.fallbackRate(), true, 0, 0, obeyers, busy, "no directive yet");
        } else if (heartbeat < 0 || now - heartbeat > config.holdLast().toMillis()) {
            next = new Share(config.fallbackRate(), true, d.version(), d.permitPerSecond(), obeyers, busy,
                    "no controller heartbeat for " + config.holdLast().toSeconds() + " s (holding directive v"
                            + d.version() + " ended)");
        } else {
            next = new Share(d.permitPerSecond() * watcher.part(), false, d.version(), d.permitPerSecond(), obeyers,
                    busy, d.reason());
        }
        Share prev = share;
        if (prev.perSecond() == next.perSecond() && prev.fallback() == next.fallback()
                && prev.directiveVersion() == next.directiveVersion() && prev.busy() == next.busy()) {
            return;
        }
        if (next.perSecond() > 0) {
            Bandwidth limit = limit(next.perSecond());
            bucket.replaceConfiguration(BucketConfiguration.builder().addLimit(limit).build(),
                    TokensInheritanceStrategy.AS_IS);
        }
        share = next;
        if (prev.fallback() != next.fallback() || prev.directiveVersion() != next.directiveVersion()) {
            log.info("{} now {}", prefix, describe());
        } else {
            log.debug("{} now {}", prefix, describe());
        }
    }

    /** {@code perSecond} deliveries/s: refills evenly, holds {@code burst} of it (at least 1). */
    private Bandwidth limit(double perSecond) {
        long capacity = capacity(perSecond);
        if (perSecond >= 0.1) {
            // Whole tokens over ten seconds keep a share of, say, 26.7/s to a tenth of a delivery a second.
            return Bandwidth.builder().capacity(capacity)
                    .refillGreedy(Math.round(perSecond * 10), Duration.ofSeconds(10)).build();
        }
        return Bandwidth.builder().capacity(1).refillGreedy(1, Duration.ofMillis((long) (1000 / perSecond))).build();
    }

    private long capacity(double perSecond) {
        return Math.max(1, (long) Math.ceil(perSecond * config.burst().toNanos() / 1e9));
    }

    private static void requirePositive(long n) {
        if (n < 1) {
            throw new IllegalArgumentException("permits must be >= 1, got " + n);
        }
    }

    @Override
    public void close() {
        watcher.close();
        waits.shutdownNow();
    }
}
