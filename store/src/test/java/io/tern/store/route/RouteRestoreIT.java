package io.tern.store.route;

import io.tern.store.TestRedis;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import io.tern.store.redis.StoreFailures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Route restore after an outage, evictions over pub/sub, and what counts as "Redis unreachable", on a real Redis. */
class RouteRestoreIT {
    private static RedisStore redis;
    private static RouteRepository routes;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(2));
        routes = new RouteRepository(redis);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static String app() {
        return "app-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void aMissingRouteIsWrittenAndTheDeviceMarkedKnown() {
        String app = app();
        assertNull(routes.restore(app, "r1", new Route("b1", "e1"), 1000).join());
        assertEquals(new Route("b1", "e1"), routes.get(app, "r1").join());
        assertEquals("1000", redis.async().get(Keys.device(app, "r1")).toCompletableFuture().join());
    }

    @Test
    void aRouteOfTheSameBrokerIsOverwrittenWhateverItsEpoch() {
        String app = app();
        routes.put(app, "r1", new Route("b1", "old"), 1).join();
        assertNull(routes.restore(app, "r1", new Route("b1", "new"), 2).join());
        assertEquals(new Route("b1", "new"), routes.get(app, "r1").join());
    }

    @Test
    void aRouteOfAnotherBrokerIsNewerAndLeftAloneAndReturned() {
        String app = app();
        routes.put(app, "r1", new Route("b2", "e9"), 1).join();
        assertEquals(new Route("b2", "e9"), routes.restore(app, "r1", new Route("b1", "e1"), 2).join());
        assertEquals(new Route("b2", "e9"), routes.get(app, "r1").join());
        // A broker id that only starts like this one's is another broker.
        routes.put(app, "r2", new Route("b10", "e9"), 1).join();
        assertEquals(new Route("b10", "e9"), routes.restore(app, "r2", new Route("b1", "e1"), 2).join());
    }

    @Test
    void anEvictionReachesTheSubscribedBroker() throws Exception {
        String broker = "b-" + UUID.randomUUID().toString().substring(0, 8);
        BlockingQueue<SessionEvictions.Eviction> got = new LinkedBlockingQueue<>();
        try (SessionEvictions listening = new SessionEvictions(redis)) {
            listening.subscribe(broker, got::add);
            String reg = "reg\nwith|odd\"chars";
            // PUBLISH counts the subscribers of the node that took it: on a cluster the subscriber may sit on another.
            long counted = new SessionEvictions(redis).publish("app", reg, new Route(broker, "e7")).join();
            assertTrue(counted <= 1, "one subscriber at most, counted " + counted);
            SessionEvictions.Eviction e = got.poll(10, TimeUnit.SECONDS);
            assertNotNull(e, "no eviction received");
            assertEquals(new SessionEvictions.Eviction("app", reg, "e7"), e);
        }
    }

    @Test
    void connectionAndTimeoutFailuresCountAsUnavailableOthersDoNot() {
        assertTrue(StoreFailures.isUnavailable(new CompletionException(
                new io.lettuce.core.RedisException("Currently not connected. Commands are rejected."))));
        assertTrue(StoreFailures.isUnavailable(new IllegalStateException(
                new io.lettuce.core.RedisCommandTimeoutException("Command timed out after 2 second(s)"))));
        assertTrue(StoreFailures.isUnavailable(new io.lettuce.core.RedisConnectionException("refused")));
        // A wrong type is a bug, not an outage: 500 stays right for it.
        String app = app();
        redis.async().set(Keys.route(app, "r"), "x").toCompletableFuture().join();
        Throwable wrongType = assertThrows(CompletionException.class,
                () -> redis.async().hget(Keys.route(app, "r"), "f").toCompletableFuture().join());
        assertFalse(StoreFailures.isUnavailable(wrongType));
        assertFalse(StoreFailures.isUnavailable(new IllegalArgumentException("bad input")));
    }
}
