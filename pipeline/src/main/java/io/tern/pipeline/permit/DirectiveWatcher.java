package io.tern.pipeline.permit;

import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.tern.store.redis.RedisStore;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.PermitObeyers;
import io.tern.store.throttle.PermitUsage;
import io.tern.store.throttle.PermitUsageRepository;
import io.tern.store.throttle.ThrottleDirective;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * An obeyer's view of the rate controller, kept in memory so no request waits on Redis: the last good throttle
 * directive, the controller's last heartbeat, and how many obeyers share the permit (this one registers itself in
 * the same tick). A new directive arrives pushed (the repository's pub/sub channel triggers a read at once) or by
 * the poll. A failed read keeps what was last read; a stored directive this code refuses (a negative or absurd
 * rate, unreadable JSON) is logged and ignored, and the last good one kept: a typo by hand must not open or shut
 * the platform. Each tick ends with {@code onTick} on the watcher's own thread.
 */
public final class DirectiveWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DirectiveWatcher.class);
    /**
     * The span the reported rate is averaged over: the controller reads it at its own pace, so a rate of the last
     * tick alone (100 ms at a short poll) would be whatever instant the read happened to catch.
     */
    private static final long USAGE_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final RedisStore redis;
    private final DirectiveRepository directives;
    private final PermitObeyers obeyers;
    private final PermitUsageRepository usage;
    /** Permits granted since start, cumulative: reported as a rate so the controller can tell gated load from the rest. */
    private volatile LongSupplier granted = () -> 0;
    /** (System.nanoTime(), granted total) of recent ticks, oldest first, within USAGE_WINDOW; watcher thread only. */
    private final ArrayDeque<long[]> grantedSamples = new ArrayDeque<>();
    private final PermitConfig config;
    private final Duration readTimeout;
    private final String obeyerId;
    private final LongSupplier clock;
    private final String prefix;
    private final ScheduledExecutorService thread;
    private volatile Runnable onTick = () -> { };
    private volatile ThrottleDirective directive = ThrottleDirective.NONE;
    /** Epoch ms of the controller's last heartbeat as last read; -1 when there was none. */
    private volatile long heartbeatMillis = -1;
    private volatile long liveObeyers = 1;
    /** The live obeyers' weights summed, this one's as taken (see {@link #weigh}). */
    private volatile long weightSum = PermitObeyers.IDLE;
    /** The weight this obeyer takes its share by (see {@link #weigh}). */
    private volatile int weight = PermitObeyers.IDLE;
    /** Whether this obeyer has work for the permit (the gate says); registered as its weight each tick. */
    private volatile BooleanSupplier busy = () -> false;
    private int registered = PermitObeyers.IDLE; // watcher thread only
    private long registeredAtNanos; // watcher thread only
    /** System.nanoTime() of the last tick whose reads all worked; 0 before the first. */
    private volatile long lastReadNanos;
    private volatile long rejected;
    private volatile long ticks;
    private StatefulRedisPubSubConnection<String, String> subscription;
    private boolean failing; // on the watcher thread only
    private boolean refusing; // on the watcher thread only

    /** @param obeyerId this obeyer's registration, unique among obeyers (e.g. "logic l1", "bypass b2") */
    public DirectiveWatcher(RedisStore redis, PermitConfig config, Duration readTimeout, String obeyerId,
                            LongSupplier clock) {
        this.redis = redis;
        this.directives = new DirectiveRepository(redis);
        this.obeyers = new PermitObeyers(redis);
        this.usage = new PermitUsageRepository(redis);
        this.config = config;
        this.readTimeout = readTimeout;
        this.obeyerId = obeyerId;
        this.clock = clock;
        this.prefix = "[" + obeyerId + " permit]";
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, obeyerId.replace(' ', '-') + "-permit");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Subscribes, then reads (so the first requests see the directive, and a change written between the two is
     * either read or announced), then ticks every poll.
     */
    public DirectiveWatcher start(Runnable onTick) {
        this.onTick = onTick;
        subscribe();
        try {
            thread.submit(this::tick).get(readTimeout.toMillis() * 3 + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("{} first read of the throttle directive failed: {}", prefix, e.toString());
        }
        long ms = config.poll().toMillis();
        thread.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    /** Subscribes, unless subscribed; a Redis down now is tried again on the next tick (the poll covers it). */
    private synchronized void subscribe() {
        if (subscription != null || thread.isShutdown()) {
            return;
        }
        try {
            subscription = redis.connectPubSub();
        } catch (RuntimeException e) {
            log.warn("{} subscribing to directive changes failed, polling meanwhile: {}", prefix, e.toString());
            return;
        }
        subscription.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                if (DirectiveRepository.CHANGES_CHANNEL.equals(channel)) {
                    refreshSoon();
                }
            }
        });
        // Lettuce re-subscribes after a reconnect; the poll covers what is missed meanwhile. Waited for (bounded):
        // a change published before the SUBSCRIBE is in place would otherwise wait for the poll.
        try {
            subscription.async().subscribe(DirectiveRepository.CHANGES_CHANNEL).toCompletableFuture()
                    .get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("{} subscribing to directive changes not confirmed, polling meanwhile: {}", prefix, e.toString());
        }
    }

    /** Reads again on the watcher thread, now. */
    public void refreshSoon() {
        try {
            thread.execute(this::tick);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    public ThrottleDirective directive() {
        return directive;
    }

    /** The controller's last heartbeat (epoch ms) as last read; -1 when there was none. */
    public long heartbeatMillis() {
        return heartbeatMillis;
    }

    /** Live obeyers as last counted, this one included (at least 1). */
    public long liveObeyers() {
        return liveObeyers;
    }

    /** Stored directives refused so far (invalid rate, unreadable). */
    public long rejected() {
        return rejected;
    }

    /** True while the last successful read is younger than three polls plus the read timeouts. */
    public boolean fresh() {
        long last = lastReadNanos;
        return last != 0 && System.nanoTime() - last <= config.poll().multipliedBy(3).plus(readTimeout.multipliedBy(3))
                .toNanos();
    }

    private void tick() {
        subscribe();
        long now = clock.getAsLong();
        boolean ok = readDirective();
        try {
            heartbeatMillis = directives.lastHeartbeat().get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
            int want = busy.getAsBoolean() ? PermitObeyers.BUSY : PermitObeyers.IDLE;
            PermitObeyers.Live live = obeyers.refresh(obeyerId, now, config.obeyerTtl().toMillis(), want)
                    .get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
            weigh(want, live);
            reportUsage(now);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            ok = false;
            readFailed(e);
        }
        if (ok) {
            lastReadNanos = System.nanoTime();
            if (failing) {
                failing = false;
                log.info("{} reading the throttle directive works again", prefix);
            }
        }
        try {
            onTick.run();
        } catch (RuntimeException e) {
            log.warn("{} applying the directive failed", prefix, e);
        }
        ticks++; // this thread only
    }

    /**
     * A weight going down is taken at once; one going up only once it has been registered for two polls, by when
     * every other obeyer has ticked and taken its own share down: else for a moment the shares would add up to more
     * than the permit.
     */
    private void weigh(int want, PermitObeyers.Live live) {
        long nanos = System.nanoTime();
        if (want != registered) {
            registered = want;
            registeredAtNanos = nanos;
        }
        if (registered < weight || nanos - registeredAtNanos >= config.poll().toNanos() * 2) {
            weight = registered;
        }
        liveObeyers = Math.max(1, live.count());
        // The others' weights as registered, with this one's as taken (not yet raised while it waits).
        weightSum = Math.max(weight, live.weightSum() - registered + weight);
    }

    /** @param busy whether this obeyer has work for the permit now; weighs its share (see {@link PermitObeyers}) */
    public void weighBy(BooleanSupplier busy) {
        this.busy = busy;
    }

    /** This obeyer's part of the permit: its weight over the live obeyers' sum (at most 1). */
    public double part() {
        return Math.min(1.0, (double) weight / weightSum);
    }

    /** Whether this obeyer weighs in as busy now. */
    public boolean weighsBusy() {
        return weight == PermitObeyers.BUSY;
    }

    /** Ticks completed (reads and the gate's re-rate), for tests that must see a tick happen. */
    long ticks() {
        return ticks;
    }

    /** @return false when Redis did not answer (a refused directive is a good read: Redis works) */
    private boolean readDirective() {
        ThrottleDirective read;
        try {
            read = directives.load().get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof IllegalStateException) { // DirectiveRepository's "not readable": validation failed
                rejected++;
                if (!refusing) {
                    refusing = true;
                    log.warn("{} ignoring the stored throttle directive, keeping version {}: {}", prefix,
                            directive.version(), cause.getMessage());
                }
                return true;
            }
            readFailed(e);
            return false;
        }
        refusing = false;
        // Any other version is adopted, not only a higher one: a store that lost the directive (version 0) or
        // restarted its count must not leave obeyers on a stale permit forever.
        if (read.version() != directive.version()) {
            directive = read;
            log.info("{} throttle directive version {}: {} {}/s by {} ({})", prefix, read.version(), read.state().wire(),
                    read.permitPerSecond(), read.source(), read.reason());
        }
        return true;
    }

    private void readFailed(Exception e) {
        if (!failing) {
            failing = true;
            log.warn("{} reading the throttle directive failed, keeping version {}: {}", prefix, directive.version(),
                    e.toString());
        }
    }

    /** Where the rate of granted permits comes from (the gate's cumulative count). */
    void reportUsageOf(LongSupplier grantedTotal) {
        this.granted = grantedTotal;
    }

    /**
     * Tells the controller what this obeyer let through since the last tick: without it the controller counts all
     * downstream load as ungated, throttles to its floor under any overload and releases again a dwell later.
     */
    private void reportUsage(long now) throws Exception {
        long total = granted.getAsLong();
        long nanos = System.nanoTime();
        // The base is the oldest sample within the window (or the one before, at a poll longer than the window):
        // at most window / poll + 1 are kept.
        while (grantedSamples.size() > 1 && nanos - grantedSamples.peekFirst()[0] > USAGE_WINDOW_NANOS) {
            grantedSamples.removeFirst();
        }
        long[] base = grantedSamples.peekFirst();
        if (base != null && nanos > base[0]) {
            double perSecond = (total - base[1]) * 1e9 / (nanos - base[0]);
            usage.report(obeyerId, new PermitUsage(Math.max(0, perSecond), now + config.obeyerTtl().toMillis()))
                    .get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        grantedSamples.addLast(new long[] {nanos, total});
    }

    /** Stops ticking and leaves the obeyers at once, so the others' shares grow without waiting for a TTL. */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            // A tick still running could refresh the registration after the leave below, holding a share for a TTL.
            thread.awaitTermination(readTimeout.toMillis() * 3 + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeSubscription();
        try {
            obeyers.leave(obeyerId).get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
            usage.withdraw(obeyerId).get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.debug("{} leaving the obeyers failed (the registration expires): {}", prefix, e.toString());
        }
    }

    private synchronized void closeSubscription() {
        if (subscription != null) {
            subscription.close();
            subscription = null;
        }
    }
}
