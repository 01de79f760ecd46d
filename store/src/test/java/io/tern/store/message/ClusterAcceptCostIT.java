package io.tern.store.message;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * What waiting for a replica (WAIT 1) costs an accept on the real cluster: the same sequential accepts with and
 * without it, latencies logged (docs/reliability.md quotes them), not asserted. Both runs' messages must be there.
 */
class ClusterAcceptCostIT {
    private static final Logger log = LoggerFactory.getLogger(ClusterAcceptCostIT.class);
    private static final int WARMUP = 200;
    private static final int ACCEPTS = 1_000;
    private static final long NOW = System.currentTimeMillis();
    private static final AtomicLong ids = new AtomicLong(System.nanoTime());

    @Test
    void acceptsWithAndWithoutAReplicaWaitAreAllStored() {
        String uri = SharedInfra.redisCluster().uri();
        long[] without = run(uri + "?replicas=0", "no wait");
        long[] with = run(uri, "WAIT 1");
        log.info("accept latency on 3 masters + 3 replicas (AOF always), {} sequential accepts: without WAIT p50 {} us p99 {} us "
                        + "mean {} us; with WAIT 1 p50 {} us p99 {} us mean {} us", ACCEPTS,
                pct(without, 50), pct(without, 99), mean(without), pct(with, 50), pct(with, 99), mean(with));
    }

    private static long[] run(String uri, String label) {
        try (RedisStore redis = RedisStore.connect(uri, Duration.ofSeconds(2))) {
            RouteRepository routes = new RouteRepository(redis);
            MessageRepository messages = new MessageRepository(redis,
                    new QueuePolicy(10_000, Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(1)));
            String app = "cost-" + System.nanoTime();
            for (int d = 0; d < 30; d++) {
                routes.put(app, "d" + d, new Route("b1", "1." + d), NOW).join();
            }
            long[] nanos = new long[ACCEPTS];
            long last = 0;
            for (int i = 0; i < WARMUP + ACCEPTS; i++) {
                long id = ids.incrementAndGet();
                long t0 = System.nanoTime();
                AcceptResult r = messages.accept(new NewMessage(id, app, "d" + (i % 30), PayloadKind.DATA, "{}", NOW,
                        NOW + 3_600_000, null, null, null)).join();
                if (i >= WARMUP) {
                    nanos[i - WARMUP] = System.nanoTime() - t0;
                }
                assertEquals(id, r.msgId(), label);
                last = id;
            }
            assertNotNull(messages.find(last).join(), label);
            return nanos;
        }
    }

    private static long pct(long[] nanos, int p) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, s.length * p / 100)] / 1_000;
    }

    private static long mean(long[] nanos) {
        return Arrays.stream(nanos).sum() / nanos.length / 1_000;
    }
}
