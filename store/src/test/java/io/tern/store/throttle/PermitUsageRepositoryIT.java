package io.tern.store.throttle;

import io.tern.store.TestRedis;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.OptionalDouble;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PermitUsageRepositoryIT {
    private static final int DB = 14;
    private static final long NOW = 1_780_000_000_000L;
    private static RedisStore redis;

    @BeforeAll
    static void connect() {
        redis = TestRedis.emptied(DB);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    @Test
    void liveReportsAreSummedAndExpiredOrUnreadableOnesRemoved() {
        PermitUsageRepository usage = new PermitUsageRepository(redis);
        assertEquals(OptionalDouble.empty(), usage.gatedPerSecond(NOW).join(), "no report: unknown, not zero");
        usage.report("logic-1", new PermitUsage(1_500, NOW + 3_000)).join();
        usage.report("bypass-1", new PermitUsage(500.5, NOW + 3_000)).join();
        usage.report("gone", new PermitUsage(9_999, NOW - 1)).join();
        redis.async().hset(Keys.permitUsage(), "garbage", "{not json").toCompletableFuture().join();
        assertEquals(OptionalDouble.of(2_000.5), usage.gatedPerSecond(NOW).join());
        await().atMost(Duration.ofSeconds(10)).until(() ->
                redis.async().hlen(Keys.permitUsage()).toCompletableFuture().join() == 2);
        usage.withdraw("bypass-1").join();
        assertEquals(OptionalDouble.of(1_500), usage.gatedPerSecond(NOW).join());
        assertEquals(OptionalDouble.empty(), usage.gatedPerSecond(NOW + 3_000).join(), "every report expired");
    }

    @Test
    void aReportMustBeARealRate() {
        assertThrows(IllegalArgumentException.class, () -> new PermitUsage(-1, NOW));
        assertThrows(IllegalArgumentException.class, () -> new PermitUsage(Double.NaN, NOW));
        assertTrue(new PermitUsage(0, NOW).gatedPerSecond() == 0);
    }
}
