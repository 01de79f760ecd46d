package io.tern.logic.schedule;

import io.tern.store.redis.ClusterUri;
import io.tern.store.redis.RedisStore;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.ClusterServersConfig;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;
import org.redisson.config.EqualJitterDelay;

import java.time.Duration;

/**
 * The logic node's Redisson client (locks for scheduled pushes, per-app rate limiters), next to the
 * Lettuce connection that does everything else. Small pools: Redisson only carries a few commands per
 * API request and per scheduled firing.
 */
public final class RedissonClients {
    private RedissonClients() {
    }

    /**
     * @param redisUri       {@code redis://host:port} or {@code redis-cluster://h1:p1,h2:p2} (the same URI as
     *                       {@code logic.redis-uri}; a cluster URI makes Redisson use its cluster servers mode)
     * @param commandTimeout a command not answered within this fails its future
     * @param clientName     shown by {@code CLIENT LIST}, e.g. the node id
     */
    public static RedissonClient connect(String redisUri, Duration commandTimeout, String clientName) {
        return connect(redisUri, commandTimeout, clientName, RedisStore.DEFAULT_RECONNECT_MAX);
    }

    /** @param reconnectMax cap of the pause between reconnect attempts, as for the Lettuce connection */
    public static RedissonClient connect(String redisUri, Duration commandTimeout, String clientName,
                                         Duration reconnectMax) {
        Config c = new Config();
        c.setCodec(StringCodec.INSTANCE);
        c.setThreads(2);
        c.setNettyThreads(4);
        int timeout = (int) Math.min(Integer.MAX_VALUE, commandTimeout.toMillis());
        // Back within a fraction of a second of Redis, like the Lettuce connection (RedisStore).
        EqualJitterDelay reconnect = new EqualJitterDelay(Duration.ofMillis(10), reconnectMax);
        if (ClusterUri.isCluster(redisUri)) {
            ClusterUri cluster = ClusterUri.parse(redisUri);
            ClusterServersConfig servers = c.useClusterServers()
                    .addNodeAddress(cluster.addresses().toArray(String[]::new))
                    .setClientName(clientName)
                    .setConnectTimeout(timeout)
                    .setTimeout(timeout)
                    .setRetryAttempts(1)
                    .setReconnectionDelay(reconnect)
                    // Finds a promoted replica about as fast as the Lettuce connection does.
                    .setScanInterval(1_000)
                    .setMasterConnectionMinimumIdleSize(2)
                    .setMasterConnectionPoolSize(16)
                    // Locks and rate limiters read what they just wrote: masters only.
                    .setReadMode(ReadMode.MASTER)
                    .setSubscriptionConnectionMinimumIdleSize(1)
                    .setSubscriptionConnectionPoolSize(4);
            if (cluster.password() != null) {
                servers.setUsername(cluster.user()).setPassword(cluster.password());
            }
            return Redisson.create(c);
        }
        c.useSingleServer()
                .setAddress(redisUri)
                .setClientName(clientName)
                .setConnectTimeout(timeout)
                .setTimeout(timeout)
                // One retry: API requests wait on these calls, so fail within ~2 timeouts rather than Redisson's default 4.
                .setRetryAttempts(1)
                .setReconnectionDelay(reconnect)
                .setConnectionMinimumIdleSize(2)
                .setConnectionPoolSize(16)
                .setSubscriptionConnectionMinimumIdleSize(1)
                .setSubscriptionConnectionPoolSize(4);
        return Redisson.create(c);
    }

    /** Stops the client quickly (Redisson's default shutdown waits 2 s of quiet period). */
    public static void close(RedissonClient client) {
        client.shutdown(0, 2, java.util.concurrent.TimeUnit.SECONDS);
    }
}
