package io.tern.logic.limits;

import io.lettuce.core.ScriptOutputType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import org.redisson.api.RRateLimiter;
import org.redisson.api.RateLimiterConfig;
import org.redisson.api.RateType;
import org.redisson.api.RedissonClient;
import org.redisson.api.ratelimiter.RateLimiterArgs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Per-app admission for the push API, shared by every logic node through Redis:
 * <ul>
 *   <li>a request rate: a Redisson {@link RRateLimiter} per app ({@code tern:rate:<appId>}), {@code rate}
 *       requests per second; over it → 429 {@code rate_limited}, {@code Retry-After: 1};</li>
 *   <li>a daily push quota: counter {@code tern:quota:<appId>:<yyyyMMdd>} (UTC day); over it → 429
 *       {@code quota_exceeded}, {@code Retry-After} = seconds until UTC midnight. A rejected request
 *       consumes nothing.</li>
 * </ul>
 * A call to Redis per request cost more than the push itself, so each node <em>leases</em> from the shared
 * limits in blocks and spends them locally; a request that finds a local permit never leaves the calling
 * thread. Requests: {@link LimitsConfig#rateBlock} at a time, dropped unspent after
 * {@link LimitsConfig#leaseTtl()}; in any second an app passes at most {@code rate + nodes × block}
 * requests. Pushes: what the request needs, up to {@link LimitsConfig#quotaLeaseMax()} and at most 1/16 of
 * what is left today, given back unspent after the lease TTL or at close; the quota is never exceeded, and
 * near its end other nodes may see it as spent for up to a lease TTL. After the shared limiter refused, a
 * node answers 429 locally for {@link LimitsConfig#denyHold()}.
 * Everything is async: nothing here blocks the calling event loop.
 */
public final class AppLimits implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppLimits.class);
    private static final Duration RATE_INTERVAL = Duration.ofSeconds(1);
    private static final long DAY_MILLIS = 86_400_000L;
    /** Bound on the per-app state: apps are configured, so this is never reached in practice. */
    private static final int MAX_CACHED_APPS = 100_000;

    // KEYS: quota key. ARGV: need, most, quota, expire-at ms.
    // -> {granted, used after}; granted is 0 (and nothing taken) when fewer than `need` are left.
    private static final LuaScript LEASE_QUOTA = LuaScript.of("""
            local used = tonumber(redis.call('GET', KEYS[1]) or '0')
            local need = tonumber(ARGV[1])
            local left = tonumber(ARGV[3]) - used
            if left < need then
              return {0, used}
            end
            local grant = math.max(need, math.min(tonumber(ARGV[2]), math.floor(left / 16)))
            used = redis.call('INCRBY', KEYS[1], grant)
            redis.call('PEXPIREAT', KEYS[1], ARGV[4])
            return {grant, used}""");

    private final LimitsConfig config;
    private final Function<String, LimitsConfig.AppLimit> limitOf;
    private final RedisStore redis;
    private final RedissonClient redisson;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Map<String, Budget> budgets = new ConcurrentHashMap<>();

    /** With the configured limits only (they never change). */
    public AppLimits(LimitsConfig config, RedisStore redis, RedissonClient redisson, Clock clock, MeterRegistry registry) {
        this(config, config::forApp, redis, redisson, clock, registry);
    }

    /**
     * @param config  the lease settings
     * @param limitOf an app's limits in force (they may change: call {@link #limitsChanged})
     */
    public AppLimits(LimitsConfig config, Function<String, LimitsConfig.AppLimit> limitOf, RedisStore redis,
                     RedissonClient redisson, Clock clock, MeterRegistry registry) {
        this.config = config;
        this.limitOf = limitOf;
        this.redis = redis;
        this.redisson = redisson;
        this.clock = clock;
        this.registry = registry;
    }

    public static String quotaKey(String appId, LocalDate utcDay) {
        return Keys.quota(appId, utcDay);
    }

    public static String rateKey(String appId) {
        return Keys.rate(appId);
    }

    /**
     * Admits one API request of {@code appId} that will push to {@code pushes} devices (0 for a request
     * that pushes nothing, e.g. storing a task body: only the rate applies).
     *
     * @return completes when admitted (the pushes are then counted against today's quota); fails with a
     *         {@link PushException} ({@code rate_limited} or {@code quota_exceeded}, with Retry-After)
     */
    public CompletableFuture<Void> admit(String appId, long pushes) {
        if (pushes < 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("pushes must be >= 0"));
        }
        return budget(appId).admit(pushes);
    }

    /**
     * Pushes counted today (UTC) against the app's quota: the shared counter less what this node leased and
     * has not spent (other nodes' unspent leases are included until they give them back).
     */
    public CompletableFuture<Long> usedToday(String appId) {
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        Budget b = budgets.get(appId);
        long unspent = b == null ? 0 : b.unspentPushes(today.toEpochDay());
        return redis.async().get(quotaKey(appId, today)).toCompletableFuture()
                .thenApply(v -> (v == null ? 0L : Long.parseLong(v)) - unspent);
    }

    /**
     * The app's limits changed: its local state is dropped (unspent leased pushes given back) and the next request
     * starts from the new limits (the shared limiter is re-set to the new rate on first use).
     */
    public void limitsChanged(String appId) {
        Budget b = budgets.remove(appId);
        if (b != null) {
            b.giveBackAll();
        }
    }

    /** Gives unspent leased pushes back to the shared quota (waits at most a few seconds). */
    @Override
    public void close() {
        List<CompletableFuture<?>> returns = new ArrayList<>();
        budgets.values().forEach(b -> {
            CompletableFuture<?> f = b.giveBackAll();
            if (f != null) {
                returns.add(f);
            }
        });
        try {
            CompletableFuture.allOf(returns.toArray(CompletableFuture[]::new)).get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("[limits] giving back unspent quota leases failed: {}", e.toString());
        }
    }

    private Budget budget(String appId) {
        Budget b = budgets.get(appId);
        if (b == null) {
            if (budgets.size() >= MAX_CACHED_APPS) {
                budgets.clear();
            }
            b = budgets.computeIfAbsent(appId, Budget::new);
        }
        return b;
    }

    /** A request waiting for a lease; served in arrival order. */
    private record Waiter(long want, CompletableFuture<Void> done) {
    }

    /**
     * One app's locally held permits, the requests waiting for more, and the leases that refill them. At most
     * one lease of each kind is in flight; a lease is sized for the first waiter and serves as many as it can.
     */
    private final class Budget {
        private final String appId;
        private final LimitsConfig.AppLimit limit;
        private final int rateBlock;
        private final Counter admitted;
        private final Counter rateRejected;
        private final Counter quotaRejected;
        private volatile CompletableFuture<RRateLimiter> limiter;

        // Guarded by this.
        private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
        private long requests;
        private long requestsUntil;
        private long deniedUntil;
        private boolean leasingRequests;
        private long pushes;
        private long pushesDay;
        private long pushesUntil;
        private Waiter leasingPushesFor;

        Budget(String appId) {
            this.appId = appId;
            this.limit = limitOf.apply(appId);
            this.rateBlock = config.rateBlock(limit.rate());
            this.admitted = Counter.builder("tern.limits.admitted").tag("app", appId)
                    .description("API requests within the per-app limits").register(registry);
            this.rateRejected = rejected("rate");
            this.quotaRejected = rejected("quota");
        }

        private Counter rejected(String reason) {
            return Counter.builder("tern.limits.rejected").tag("app", appId).tag("reason", reason)
                    .description("API requests answered 429 by the per-app limits").register(registry);
        }

        CompletableFuture<Void> admit(long want) {
            long now = clock.millis();
            Waiter w = null;
            boolean denied = false;
            boolean full = false;
            synchronized (this) {
                expire(now);
                if (waiting.isEmpty() && requests > 0 && pushes >= want) {
                    requests--;
                    pushes -= want;
                } else if (waiting.isEmpty() && requests == 0 && now < deniedUntil) {
                    denied = true;
                } else if (waiting.size() >= config.maxWaiting()) {
                    full = true;
                } else {
                    w = new Waiter(want, new CompletableFuture<>());
                    waiting.add(w);
                }
            }
            giveBackExpired();
            if (denied || full) {
                rateRejected.increment();
                return CompletableFuture.failedFuture(rateLimited());
            }
            if (w == null) {
                admitted.increment();
                return CompletableFuture.completedFuture(null);
            }
            pump();
            return w.done();
        }

        /** Serves waiters in order with what is held; starts the lease the first one lacks. */
        private void pump() {
            List<Waiter> served = new ArrayList<>();
            List<Waiter> denied = new ArrayList<>();
            boolean leaseRequests = false;
            Waiter leasePushesFor = null;
            long need = 0;
            long now = clock.millis();
            long day = Math.floorDiv(now, DAY_MILLIS);
            synchronized (this) {
                expire(now);
                while (!waiting.isEmpty()) {
                    Waiter head = waiting.peek();
                    if (requests == 0) {
                        if (now < deniedUntil) {
                            denied.addAll(waiting);
                            waiting.clear();
                            break;
                        }
                        if (!leasingRequests) {
                            leasingRequests = leaseRequests = true;
                        }
                        // Both leases at once, not the pushes' after the requests': one round trip on the call's path.
                        if (head.want() > pushes && leasingPushesFor == null) {
                            leasingPushesFor = leasePushesFor = head;
                            need = head.want() - pushes;
                        }
                        break;
                    }
                    if (head.want() > pushes) {
                        if (leasingPushesFor == null) {
                            leasingPushesFor = leasePushesFor = head;
                            need = head.want() - pushes;
                        }
                        break;
                    }
                    requests--;
                    pushes -= head.want();
                    served.add(waiting.poll());
                }
            }
            giveBackExpired();
            for (Waiter w : served) {
                admitted.increment();
                w.done().complete(null);
            }
            for (Waiter w : denied) {
                rateRejected.increment();
                w.done().completeExceptionally(rateLimited());
            }
            if (leaseRequests) {
                leaseRequests();
            }
            if (leasePushesFor != null) {
                leasePushes(leasePushesFor, day, need);
            }
        }

        /** Drops expired requests; sets aside unspent pushes of an expired lease or of another day. */
        private void expire(long now) {
            if (requests > 0 && now >= requestsUntil) {
                requests = 0;
            }
            if (pushes > 0 && (now >= pushesUntil || Math.floorDiv(now, DAY_MILLIS) != pushesDay)) {
                expiredPushes += pushes;
                expiredDay = pushesDay;
                pushes = 0;
            }
        }

        // Guarded by this: set aside by expire(), given back outside the lock.
        private long expiredPushes;
        private long expiredDay;

        private void giveBackExpired() {
            long n;
            long day;
            synchronized (this) {
                n = expiredPushes;
                day = expiredDay;
                expiredPushes = 0;
            }
            if (n > 0) {
                giveBack(day, n);
            }
        }

        private void leaseRequests() {
            limiter().thenCompose(l -> l.tryAcquireAsync(rateBlock).toCompletableFuture()
                            .thenCompose(ok -> ok || rateBlock == 1 ? CompletableFuture.completedFuture(ok ? rateBlock : 0)
                                    // Less than a block left this second: take what is needed now.
                                    : l.tryAcquireAsync(1).toCompletableFuture().thenApply(one -> one ? 1 : 0)))
                    .whenComplete((granted, err) -> {
                        long now = clock.millis();
                        List<Waiter> failed = List.of();
                        synchronized (this) {
                            leasingRequests = false;
                            if (err == null && granted > 0) {
                                requests += granted;
                                requestsUntil = now + config.leaseTtl().toMillis();
                            } else {
                                // Refused (the shared limiter is empty this second) or Redis failed: all waiters get it.
                                if (err == null) {
                                    deniedUntil = now + config.denyHold().toMillis();
                                }
                                failed = new ArrayList<>(waiting);
                                waiting.clear();
                            }
                        }
                        for (Waiter w : failed) {
                            if (err != null) {
                                w.done().completeExceptionally(err);
                            } else {
                                rateRejected.increment();
                                w.done().completeExceptionally(rateLimited());
                            }
                        }
                        pump();
                    });
        }

        private void leasePushes(Waiter forWaiter, long day, long need) {
            long expireAt = (day + 2) * DAY_MILLIS; // kept a day past its own: reports, and nodes with skewed clocks
            String[] keys = {quotaKey(appId, LocalDate.ofEpochDay(day))};
            String[] args = {Long.toString(need), Long.toString(Math.max(need, config.quotaLeaseMax())),
                    Long.toString(limit.dailyQuota()), Long.toString(expireAt)};
            LEASE_QUOTA.<List<Long>>run(redis.async(), ScriptOutputType.MULTI, keys, args).whenComplete((r, err) -> {
                long granted = err == null ? r.get(0) : 0;
                List<Waiter> failed = List.of();
                synchronized (this) {
                    leasingPushesFor = null;
                    if (granted > 0) {
                        if (pushes > 0 && pushesDay != day) {
                            expiredPushes += pushes; // a lease of another day: not mixed with this one
                            expiredDay = pushesDay;
                            pushes = 0;
                        }
                        pushes += granted;
                        pushesDay = day;
                        pushesUntil = clock.millis() + config.leaseTtl().toMillis();
                    } else if (err != null) {
                        failed = new ArrayList<>(waiting);
                        waiting.clear();
                    } else if (waiting.peek() == forWaiter) {
                        // Less is left today than it needs: final for this request; the next may need less.
                        waiting.poll();
                        failed = List.of(forWaiter);
                    }
                }
                for (Waiter w : failed) {
                    if (err != null) {
                        w.done().completeExceptionally(err);
                    } else {
                        quotaRejected.increment();
                        w.done().completeExceptionally(quotaExceeded(w.want(), r.get(1)));
                    }
                }
                giveBackExpired();
                pump();
            });
        }

        synchronized long unspentPushes(long day) {
            return pushesDay == day ? pushes : 0;
        }

        CompletableFuture<?> giveBackAll() {
            long n;
            long day;
            synchronized (this) {
                n = pushes;
                day = pushesDay;
                pushes = 0;
            }
            giveBackExpired();
            return n > 0 ? giveBack(day, n) : null;
        }

        private CompletableFuture<?> giveBack(long day, long n) {
            return redis.async().decrby(quotaKey(appId, LocalDate.ofEpochDay(day)), n).toCompletableFuture()
                    .whenComplete((v, err) -> {
                        if (err != null) {
                            log.warn("[limits app={}] giving back {} unspent pushes failed: {}", appId, n, err.toString());
                        }
                    });
        }

        private PushException rateLimited() {
            return new PushException(PushError.RATE_LIMITED,
                    "app " + appId + " is over its rate of " + limit.rate() + " requests/s", null, 1);
        }

        private PushException quotaExceeded(long want, long used) {
            long now = clock.millis();
            long midnight = (Math.floorDiv(now, DAY_MILLIS) + 1) * DAY_MILLIS;
            return new PushException(PushError.QUOTA_EXCEEDED, "app " + appId + " has used " + used
                    + " of its daily quota of " + limit.dailyQuota() + " pushes; this request needs " + want,
                    null, Math.max(1, (midnight - now + 999) / 1000));
        }

        /** The app's shared limiter, configured once per process (and re-set when its configured rate changed). */
        private CompletableFuture<RRateLimiter> limiter() {
            CompletableFuture<RRateLimiter> f = limiter;
            if (f == null || f.isCompletedExceptionally()) {
                synchronized (this) {
                    f = limiter;
                    if (f == null || f.isCompletedExceptionally()) { // first use, or set-up failed (Redis away)
                        limiter = f = configure(appId, limit.rate());
                    }
                }
            }
            return f;
        }
    }

    private CompletableFuture<RRateLimiter> configure(String appId, int rate) {
        RRateLimiter l = redisson.getRateLimiter(rateKey(appId));
        return l.trySetRateAsync(RateType.OVERALL, rate, RATE_INTERVAL).toCompletableFuture()
                .thenCompose(set -> set ? CompletableFuture.completedFuture(l) : l.getConfigAsync().toCompletableFuture()
                        .thenCompose(c -> {
                            if (matches(c, rate)) {
                                return CompletableFuture.completedFuture(l);
                            }
                            // Another rate was configured before (resets the limiter's window once).
                            log.info("[limits app={}] rate set to {}/s (was {})", appId, rate, c.getRate());
                            return l.setRateAsync(RateLimiterArgs.of(RateType.OVERALL, rate, RATE_INTERVAL)).toCompletableFuture()
                                    .thenApply(x -> l);
                        }));
    }

    private static boolean matches(RateLimiterConfig c, int rate) {
        return c.getRateType() == RateType.OVERALL && c.getRate() != null && c.getRate() == rate
                && c.getRateInterval() != null && c.getRateInterval() == RATE_INTERVAL.toMillis();
    }
}
