package io.tern.store.throttle;

import io.tern.store.Keys;
import io.tern.store.TestRedis;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The obeyers' registrations and weights against a real Redis; "now" is passed in, so it is a fixed instant here. */
class PermitObeyersIT {
    private static final int DB = 6;
    private static final long NOW = 1_780_000_000_000L;
    private static final long TTL = 3_000;
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
    void theLiveWeightsAreSummedAnObeyerWithoutOneCountsAsBusyAndTheGoneOnesWeightsAreDropped() {
        PermitObeyers obeyers = new PermitObeyers(redis);
        assertEquals(new PermitObeyers.Live(1, PermitObeyers.BUSY),
                obeyers.refresh("logic l1", NOW, TTL, PermitObeyers.BUSY).join());
        assertEquals(new PermitObeyers.Live(2, PermitObeyers.BUSY + PermitObeyers.IDLE),
                obeyers.refresh("bypass bp1", NOW, TTL, PermitObeyers.IDLE).join());

        // A node of an older version registers without a weight: it takes an equal share, so it weighs as busy.
        redis.async().zadd(Keys.permitObeyers(), NOW + TTL, "logic old").toCompletableFuture().join();
        assertEquals(new PermitObeyers.Live(3, 2 * PermitObeyers.BUSY + PermitObeyers.IDLE),
                obeyers.refresh("bypass bp1", NOW, TTL, PermitObeyers.IDLE).join());

        // Later, only bp1 refreshes: the others' registrations have expired, and their weights go with them.
        long later = NOW + TTL + 1;
        assertEquals(new PermitObeyers.Live(1, PermitObeyers.IDLE),
                obeyers.refresh("bypass bp1", later, TTL, PermitObeyers.IDLE).join());
        assertFalse(redis.async().hexists(Keys.permitObeyerWeights(), "logic l1").toCompletableFuture().join(),
                "an expired obeyer's weight is not kept");

        obeyers.leave("bypass bp1").join();
        assertEquals(0L, redis.async().hlen(Keys.permitObeyerWeights()).toCompletableFuture().join());
        assertThrows(IllegalArgumentException.class, () -> obeyers.refresh("x", NOW, TTL, 0));
    }
}
