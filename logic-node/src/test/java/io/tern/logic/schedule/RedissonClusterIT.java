package io.tern.logic.schedule;

import io.tern.devstack.SharedInfra;
import org.junit.jupiter.api.Test;
import org.redisson.api.RLock;
import org.redisson.api.RRateLimiter;
import org.redisson.api.RateType;
import org.redisson.api.RedissonClient;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A cluster URI puts Redisson in cluster mode: the scheduler's locks and the per-app rate limiters work on it. */
class RedissonClusterIT {
    @Test
    void locksAndRateLimitersWorkOnARedisCluster() throws Exception {
        RedissonClient a = RedissonClients.connect(SharedInfra.redisCluster().uri(), Duration.ofSeconds(2), "cluster-it-a");
        RedissonClient b = RedissonClients.connect(SharedInfra.redisCluster().uri(), Duration.ofSeconds(2), "cluster-it-b");
        try {
            String name = "tern:it:lock:" + System.nanoTime();
            RLock held = a.getLock(name);
            assertTrue(held.tryLock(0, 10, TimeUnit.SECONDS));
            assertFalse(b.getLock(name).tryLock(0, 10, TimeUnit.SECONDS), "a lock held through one client is held for all");
            held.unlock();
            assertTrue(b.getLock(name).tryLock(0, 10, TimeUnit.SECONDS));

            RRateLimiter limiter = a.getRateLimiter("tern:it:rate:" + System.nanoTime());
            limiter.trySetRate(RateType.OVERALL, 2, Duration.ofMinutes(1));
            assertTrue(limiter.tryAcquire());
            assertTrue(limiter.tryAcquire());
            assertFalse(limiter.tryAcquire(), "a third permit within the minute");
        } finally {
            RedissonClients.close(a);
            RedissonClients.close(b);
        }
    }
}
