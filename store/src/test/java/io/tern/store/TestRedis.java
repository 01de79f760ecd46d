package io.tern.store;

import io.tern.devstack.SharedInfra;
import io.tern.store.redis.RedisStore;

import java.time.Duration;

/**
 * The Redis the store's integration tests run against: the shared single Redis, or with
 * {@code -D}{@value #MODE_PROPERTY}{@code =cluster} (the pom's second failsafe run) the shared Redis Cluster.
 */
public final class TestRedis {
    public static final String MODE_PROPERTY = "tern.store.redis";

    private TestRedis() {
    }

    public static boolean cluster() {
        String mode = System.getProperty(MODE_PROPERTY, "single");
        return switch (mode) {
            case "single" -> false;
            case "cluster" -> true;
            default -> throw new IllegalArgumentException(MODE_PROPERTY + " must be single or cluster, was " + mode);
        };
    }

    /** Database 0 of the single Redis, or the cluster. */
    public static String uri() {
        return cluster() ? SharedInfra.redisCluster().uri() : SharedInfra.redis().uri();
    }

    /**
     * A database of its own on the single Redis, for a test that empties it (FLUSHDB) between tests. A cluster has
     * database 0 only: there FLUSHDB empties every master, which is safe because test classes run one at a time.
     */
    public static String uri(int db) {
        return cluster() ? SharedInfra.redisCluster().uri() : SharedInfra.redis().uri() + "/" + db;
    }

    /** A connection to database {@code db} ({@link #uri(int)}), emptied first: the test class starts from nothing. */
    public static RedisStore emptied(int db) {
        RedisStore redis = RedisStore.connect(uri(db), Duration.ofSeconds(2));
        redis.async().flushdb().toCompletableFuture().join();
        return redis;
    }
}
