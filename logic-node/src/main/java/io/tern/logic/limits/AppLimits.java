package io.tern.logic.limits;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.runtime.http.ApiException;
import io.tern.store.redis.RedisStore;
import org.redisson.api.RRateLimiter;
import org.redisson.api.RateLimiterConfig;
import org.redisson.api.RateType;
import org.redisson.api.RedissonClient;
import org.redisson.api.ratelimiter.RateLimiterArgs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-app admission for the push API, shared by every logic node through Redis:
 * <ul>
 *   <li>a request rate: a Redisson {@link RRateLimiter} per app ({@code tern:rate:<appId>}), {@code rate}
 *       requests per second; over it → 429 {@code rate_limited}, {@code Retry-After: 1};</li>
 *   <li>a daily push quota: {@code INCRBY tern:quota:<appId>:<yyyyMMdd>} (UTC day) in a script that takes
 *       the increment back when it would pass the quota, so a rejected request consumes nothing; over it →
 *       429 {@code quota_exceeded}, {@code Retry-After} = seconds until UTC midnight.</li>
 * </ul>
 * Everything is async: nothing here blocks the calling event loop.
 */
public final class AppLimits {
    private static final Logger log = LoggerFactory.getLogger(AppLimits.class);
    private static final DateTimeFormatter DAY = DateTimeFormatter.BASIC_ISO_DATE; // yyyyMMdd
    private static final Duration RATE_INTERVAL = Duration.ofSeconds(1);
    /** Bound on the limiter cache: apps are configured, so this is never reached in practice. */
    private static final int MAX_CACHED_LIMITERS = 100_000;

    // KEYS: quota key. ARGV: pushes, quota, expire-at ms. -> {1, used} admitted, {0, used before} over quota.
    private static final String QUOTA = """
            local n = redis.call('INCRBY', KEYS[1], ARGV[1])
            if n > tonumber(ARGV[2]) then
              n = redis.call('DECRBY', KEYS[1], ARGV[1])
              redis.call('PEXPIREAT', KEYS[1], ARGV[3])
              return {0, n}
            end
            redis.call('PEXPIREAT', KEYS[1], ARGV[3])
            return {1, n}""";
    private static final String QUOTA_SHA = sha1(QUOTA);

    private final LimitsConfig config;
    private final RedisStore redis;
    private final RedissonClient redisson;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Map<String, CompletableFuture<RRateLimiter>> limiters = new ConcurrentHashMap<>();

    public AppLimits(LimitsConfig config, RedisStore redis, RedissonClient redisson, Clock clock, MeterRegistry registry) {
        this.config = config;
        this.redis = redis;
        this.redisson = redisson;
        this.clock = clock;
        this.registry = registry;
    }

    public static String quotaKey(String appId, LocalDate utcDay) {
        return "tern:quota:" + appId + ":" + DAY.format(utcDay);
    }

    public static String rateKey(String appId) {
        return "tern:rate:" + appId;
    }

    /**
     * Admits one API request of {@code appId} that will push to {@code pushes} devices (0 for a request
     * that pushes nothing, e.g. storing a task body: only the rate applies).
     *
     * @return completes when admitted (the pushes are then counted against today's quota); fails with a
     *         429 {@link ApiException} ({@code rate_limited} or {@code quota_exceeded}, with Retry-After)
     */
    public CompletableFuture<Void> admit(String appId, long pushes) {
        if (pushes < 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("pushes must be >= 0"));
        }
        LimitsConfig.AppLimit limit = config.forApp(appId);
        return limiter(appId, limit.rate())
                .thenCompose(l -> l.tryAcquireAsync(1).toCompletableFuture())
                .thenCompose(ok -> {
                    if (!ok) {
                        reject(appId, "rate");
                        throw new CompletionException(ApiException.tooManyRequests("rate_limited",
                                "app " + appId + " is over its rate of " + limit.rate() + " requests/s", 1));
                    }
                    return pushes == 0 ? CompletableFuture.<Void>completedFuture(null) : takeQuota(appId, pushes, limit);
                })
                .thenRun(() -> admitted(appId).increment());
    }

    /** Pushes counted today (UTC) against the app's quota. */
    public CompletableFuture<Long> usedToday(String appId) {
        return redis.async().get(quotaKey(appId, LocalDate.now(clock.withZone(ZoneOffset.UTC)))).toCompletableFuture()
                .thenApply(v -> v == null ? 0L : Long.parseLong(v));
    }

    private CompletableFuture<Void> takeQuota(String appId, long pushes, LimitsConfig.AppLimit limit) {
        long now = clock.millis();
        LocalDate today = LocalDate.ofEpochDay(Math.floorDiv(now, 86_400_000L));
        long midnight = today.plusDays(1).toEpochSecond(java.time.LocalTime.MIDNIGHT, ZoneOffset.UTC) * 1000;
        // Kept a day past its own day: readable for reports, and safe against nodes with skewed clocks.
        long expireAt = midnight + Duration.ofDays(1).toMillis();
        String[] keys = {quotaKey(appId, today)};
        String[] args = {Long.toString(pushes), Long.toString(limit.dailyQuota()), Long.toString(expireAt)};
        return this.<List<Long>>script(keys, args).thenAccept(r -> {
            if (r.get(0) == 1L) {
                return;
            }
            reject(appId, "quota");
            long retryAfter = Math.max(1, (midnight - now + 999) / 1000);
            throw new CompletionException(ApiException.tooManyRequests("quota_exceeded",
                    "app " + appId + " has used " + r.get(1) + " of its daily quota of " + limit.dailyQuota()
                            + " pushes; this request needs " + pushes, retryAfter));
        });
    }

    private <T> CompletableFuture<T> script(String[] keys, String[] args) {
        var async = redis.async();
        return async.<T>evalsha(QUOTA_SHA, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
                .handle((r, e) -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (cause instanceof RedisNoScriptException) {
                        return async.<T>eval(QUOTA, ScriptOutputType.MULTI, keys, args).toCompletableFuture();
                    }
                    return e == null ? CompletableFuture.completedFuture(r) : CompletableFuture.<T>failedFuture(cause);
                })
                .thenCompose(f -> f);
    }

    /** The app's shared limiter, configured once per process (and re-set when its configured rate changed). */
    private CompletableFuture<RRateLimiter> limiter(String appId, int rate) {
        CompletableFuture<RRateLimiter> f = limiters.get(appId);
        if (f == null || f.isCompletedExceptionally()) {
            if (f != null) {
                limiters.remove(appId, f); // set-up failed (Redis away): try again
            }
            if (limiters.size() >= MAX_CACHED_LIMITERS) {
                limiters.clear();
            }
            f = limiters.computeIfAbsent(appId, a -> configure(a, rate));
        }
        return f;
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

    private void reject(String appId, String reason) {
        Counter.builder("tern.limits.rejected").tag("app", appId).tag("reason", reason)
                .description("API requests answered 429 by the per-app limits").register(registry).increment();
    }

    private Counter admitted(String appId) {
        return Counter.builder("tern.limits.admitted").tag("app", appId)
                .description("API requests within the per-app limits").register(registry);
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
