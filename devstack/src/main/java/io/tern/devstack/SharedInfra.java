package io.tern.devstack;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Redis, one Redis Cluster (on first use only) and one Kafka broker per JVM for integration tests, started on first use and stopped by a JVM shutdown
 * hook. Cold Kafka start costs seconds, so test classes share them instead of starting their own.
 *
 * <p>Callers must not close, stop or restart the shared instances (other tests use them) and should use unique
 * topic names and key prefixes. A test that needs to break a server starts its own.
 */
public final class SharedInfra {
    private static final Logger log = LoggerFactory.getLogger(SharedInfra.class);

    private static RedisServer redis; // guarded by SharedInfra.class
    private static KafkaBroker kafka; // guarded by SharedInfra.class
    private static RedisServer diskKv; // guarded by SharedInfra.class
    private static RedisCluster redisCluster; // guarded by SharedInfra.class
    private static boolean hookInstalled; // guarded by SharedInfra.class

    private SharedInfra() {
    }

    public static synchronized RedisServer redis() {
        // A caller that closed the shared one by mistake should not break every later test.
        if (redis == null || redis.isClosed()) {
            installHook();
            redis = RedisServer.start(RedisServer.Options.defaults());
        }
        return redis;
    }

    /**
     * A Redis Cluster of three masters with one replica each ({@link RedisCluster.Options#defaults()}), for running
     * the store against a cluster. Tests that kill nodes start their own.
     */
    public static synchronized RedisCluster redisCluster() {
        if (redisCluster == null || redisCluster.isClosed()) {
            installHook();
            redisCluster = RedisCluster.start(RedisCluster.Options.defaults());
        }
        return redisCluster;
    }

    /**
     * The disk KV's stand-in (Apache Kvrocks in production, not shipped by any registry reachable here): a second
     * redis-server writing every command to its AOF before it answers ({@code appendfsync always}).
     */
    public static synchronized RedisServer diskKv() {
        if (diskKv == null || diskKv.isClosed()) {
            installHook();
            diskKv = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true));
        }
        return diskKv;
    }

    public static synchronized KafkaBroker kafka() {
        if (kafka == null || kafka.isClosed()) {
            installHook();
            kafka = KafkaBroker.start(KafkaBroker.Options.defaults());
        }
        return kafka;
    }

    private static void installHook() {
        if (hookInstalled) {
            return;
        }
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(new Thread(SharedInfra::stopAll, "tern-devstack-shutdown"));
    }

    private static void stopAll() {
        RedisServer r;
        RedisServer d;
        RedisCluster c;
        KafkaBroker k;
        synchronized (SharedInfra.class) {
            r = redis;
            d = diskKv;
            c = redisCluster;
            k = kafka;
            redis = null;
            diskKv = null;
            redisCluster = null;
            kafka = null;
        }
        // Each in its own try: a failing Kafka shutdown must not leave a redis-server process behind.
        if (k != null) {
            try {
                k.close();
            } catch (RuntimeException e) {
                log.warn("stopping shared Kafka failed", e);
            }
        }
        if (r != null) {
            try {
                r.close();
            } catch (RuntimeException e) {
                log.warn("stopping shared Redis failed", e);
            }
        }
        if (d != null) {
            try {
                d.close();
            } catch (RuntimeException e) {
                log.warn("stopping the shared disk KV failed", e);
            }
        }
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log.warn("stopping the shared Redis Cluster failed", e);
            }
        }
    }
}
