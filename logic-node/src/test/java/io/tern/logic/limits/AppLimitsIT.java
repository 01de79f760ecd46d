package io.tern.logic.limits;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import io.tern.devstack.SharedInfra;
import io.tern.logic.schedule.RedissonClients;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.redisson.api.RRateLimiter;
import org.redisson.api.RedissonClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-app rate and daily quota against a real Redis, shared by two "nodes". */
class AppLimitsIT {
    /**
     * Tomorrow (UTC), as the real clock reads it: real Redis expires the day's counter from this clock's
     * day, so a pinned calendar day would be gone at once on a later date.
     */
    private static final LocalDate TOMORROW = LocalDate.now(ZoneOffset.UTC).plusDays(1);
    /** 30 s before UTC midnight: a rejected quota says to come back in 30 s. */
    private static final Clock LATE_EVENING =
            Clock.fixed(TOMORROW.atTime(23, 59, 30).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);

    private static RedisStore redis;
    private static RedissonClient redisson;
    private static RedisStore redis2;
    private static RedissonClient redisson2;

    @BeforeAll
    static void connect() {
        String uri = SharedInfra.redis().uri();
        redis = RedisStore.connect(uri, Duration.ofSeconds(2));
        redisson = RedissonClients.connect(uri, Duration.ofSeconds(2), "limits-it-1");
        redis2 = RedisStore.connect(uri, Duration.ofSeconds(2));
        redisson2 = RedissonClients.connect(uri, Duration.ofSeconds(2), "limits-it-2");
    }

    @AfterAll
    static void disconnect() {
        RedissonClients.close(redisson);
        RedissonClients.close(redisson2);
        redis.close();
        redis2.close();
    }

    private static String app() {
        return "lim-" + UUID.randomUUID();
    }

    private static LimitsConfig limits(String app, int rate, long quota) {
        return new LimitsConfig(LimitsConfig.DEFAULT_RATE, LimitsConfig.DEFAULT_DAILY_QUOTA,
                Map.of(app, new LimitsConfig.AppLimit(rate, quota)));
    }

    private static PushException rejection(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return assertInstanceOf(PushException.class, e.getCause());
    }

    @Test
    void requestsUnderTheRatePass() {
        String app = app();
        AppLimits l = new AppLimits(limits(app, 50, 1_000_000), redis, redisson, Clock.systemUTC(), new SimpleMeterRegistry());
        for (int i = 0; i < 20; i++) {
            l.admit(app, 1).join();
        }
    }

    @Test
    void aBurstOverTheRateSharedByTwoNodesGets429WithRetryAfter() {
        String app = app();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AppLimits node1 = new AppLimits(limits(app, 10, 1_000_000), redis, redisson, Clock.systemUTC(), registry);
        AppLimits node2 = new AppLimits(limits(app, 10, 1_000_000), redis2, redisson2, Clock.systemUTC(), registry);
        List<CompletableFuture<Void>> burst = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            burst.add((i % 2 == 0 ? node1 : node2).admit(app, 1));
        }
        int passed = 0;
        int limited = 0;
        for (CompletableFuture<Void> f : burst) {
            try {
                f.join();
                passed++;
            } catch (CompletionException e) {
                PushException api = assertInstanceOf(PushException.class, e.getCause());
                assertEquals(PushError.Kind.OVERLOADED, api.error().kind());
                assertEquals("rate_limited", api.error().code());
                assertEquals(1, api.retryAfterSeconds());
                limited++;
            }
        }
        assertEquals(10, passed, "the rate is per app across nodes");
        assertEquals(20, limited);
        assertEquals(20.0, registry.get("tern.limits.rejected").tag("reason", "rate").counter().count());
    }

    @Test
    void anExhaustedDailyQuotaAnswers429UntilMidnightAndCountsNothingForTheRejectedCall() {
        String app = app();
        AppLimits l = new AppLimits(limits(app, 1000, 100), redis, redisson, LATE_EVENING, new SimpleMeterRegistry());
        l.admit(app, 60).join();

        PushException over = rejection(l.admit(app, 50));
        assertEquals(PushError.Kind.OVERLOADED, over.error().kind());
        assertEquals("quota_exceeded", over.error().code());
        assertEquals(30, over.retryAfterSeconds(), "seconds until UTC midnight");
        assertEquals(60, l.usedToday(app).join(), "the rejected call consumed no quota");

        l.admit(app, 40).join();
        assertEquals(100, l.usedToday(app).join());
        assertEquals("quota_exceeded", rejection(l.admit(app, 1)).error().code());
        assertEquals(100, l.usedToday(app).join());
        long ttl = redis.async().pttl(AppLimits.quotaKey(app, LATE_EVENING.instant().atZone(ZoneOffset.UTC).toLocalDate()))
                .toCompletableFuture().join();
        assertTrue(ttl > 0, "the day's counter expires");
        // A request that pushes nothing is only rate limited.
        l.admit(app, 0).join();
    }

    @Test
    void the429ReachesTheClientWithRetryAfterAndAJsonCode() throws Exception {
        String app = app();
        AppLimits l = new AppLimits(limits(app, 1000, 5), redis, redisson, LATE_EVENING, new SimpleMeterRegistry());
        try (HttpServer http = HttpServer.builder("limits-it", new SimpleMeterRegistry())
                .route(HttpMethod.POST, "/push", req -> l.admit(app, 10).thenApply(x -> HttpResponse.ok(Map.of())))
                .domainErrors(io.tern.logic.http.PushErrors::toApi)
                .start(new HttpEndpoint("127.0.0.1", 0))) {
            var resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + http.address().getPort() + "/push"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(429, resp.statusCode());
            assertEquals("30", resp.headers().firstValue("Retry-After").orElse(null));
            JsonNode body = HttpServer.JSON.readTree(resp.body());
            assertEquals("quota_exceeded", body.get("code").asText());
        }
    }

    @Test
    void aNodeLeasesRequestsAndPushesInBlocksAndSpendsThemLocally() {
        String app = app();
        AppLimits l = new AppLimits(limits(app, 1000, 1_000_000), redis, redisson, Clock.systemUTC(), new SimpleMeterRegistry());
        for (int i = 0; i < 100; i++) {
            l.admit(app, 1).join();
        }
        RRateLimiter shared = redisson.getRateLimiter(AppLimits.rateKey(app));
        assertEquals(1000 - 100, shared.availablePermits(), "two blocks of 5 % of the rate were taken from Redis");
        String quota = redis.async().get(AppLimits.quotaKey(app, LocalDate.now(ZoneOffset.UTC))).toCompletableFuture().join();
        assertEquals("1000", quota, "one quota lease of quota-lease-max pushes");
        assertEquals(100, l.usedToday(app).join(), "what this node holds unspent is not reported as used");
    }

    @Test
    void unspentQuotaIsGivenBackWhenTheLeaseExpiresAndAtClose() {
        String app = app();
        MutableClock clock = new MutableClock(TOMORROW.atTime(12, 0).toInstant(ZoneOffset.UTC));
        LimitsConfig config = new LimitsConfig(LimitsConfig.DEFAULT_RATE, LimitsConfig.DEFAULT_DAILY_QUOTA,
                Map.of(app, new LimitsConfig.AppLimit(1000, 1_000_000)), 5, 1000, Duration.ofSeconds(1), Duration.ZERO, 1000);
        AppLimits l = new AppLimits(config, redis, redisson, clock, new SimpleMeterRegistry());
        String key = AppLimits.quotaKey(app, TOMORROW);
        l.admit(app, 10).join();
        assertEquals("1000", redis.async().get(key).toCompletableFuture().join());

        clock.advance(Duration.ofMillis(1500)); // past the lease: the next call gives its 990 back and leases anew
        l.admit(app, 5).join();
        assertEquals(15, l.usedToday(app).join());
        l.close();
        assertEquals("15", redis.async().get(key).toCompletableFuture().join(), "nothing unspent is left counted");
    }

    @Test
    void twoNodesNeverPassTheQuotaAndTheCounterEndsAtWhatWasAdmitted() {
        String app = app();
        AppLimits node1 = new AppLimits(limits(app, 100_000, 100), redis, redisson, Clock.systemUTC(), new SimpleMeterRegistry());
        AppLimits node2 = new AppLimits(limits(app, 100_000, 100), redis2, redisson2, Clock.systemUTC(), new SimpleMeterRegistry());
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            calls.add((i % 2 == 0 ? node1 : node2).admit(app, 1));
        }
        int passed = 0;
        for (CompletableFuture<Void> f : calls) {
            try {
                f.join();
                passed++;
            } catch (CompletionException e) {
                PushException api = assertInstanceOf(PushException.class, e.getCause());
                assertEquals("quota_exceeded", api.error().code());
            }
        }
        assertTrue(passed <= 100, "never over the quota: " + passed);
        assertTrue(passed >= 90, "leases shrink near the end of the quota, so little stays stranded: " + passed);
        node1.close();
        node2.close();
        assertEquals(passed, node1.usedToday(app).join(), "unspent leases were given back");
    }

    @Test
    void afterTheSharedLimiterRefusesANodeAnswers429LocallyForTheDenyHold() {
        String app = app();
        MutableClock clock = new MutableClock(Instant.now());
        LimitsConfig config = new LimitsConfig(LimitsConfig.DEFAULT_RATE, LimitsConfig.DEFAULT_DAILY_QUOTA,
                Map.of(app, new LimitsConfig.AppLimit(2, 1_000_000)), 5, 1000, Duration.ofSeconds(1), Duration.ofMillis(200), 1000);
        AppLimits l = new AppLimits(config, redis, redisson, clock, new SimpleMeterRegistry());
        l.admit(app, 1).join();
        l.admit(app, 1).join();
        assertEquals("rate_limited", rejection(l.admit(app, 1)).error().code());
        // Another node's view: the shared limiter is empty for this second.
        RRateLimiter shared = redisson.getRateLimiter(AppLimits.rateKey(app));
        assertEquals(0, shared.availablePermits());
        // Within the hold no call reaches Redis, even once the shared window has room again.
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> shared.availablePermits() > 0);
        assertEquals("rate_limited", rejection(l.admit(app, 1)).error().code());
        clock.advance(Duration.ofMillis(250));
        l.admit(app, 1).join();
    }

    /** A clock the test moves: lease expiry and the deny hold without sleeping. */
    private static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
