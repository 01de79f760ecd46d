package io.tern.store.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.protocol.ConnectionIntent;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One Lettuce connection per process: Lettuce multiplexes and pipelines async commands over
 * it, which is what the hot path wants. Commands time out instead of hanging a request; while
 * Redis is unreachable they fail at once ({@link StoreFailures#isUnavailable}), and the
 * connection is retried every few hundred milliseconds (Lettuce's default backs off to 30 s,
 * which kept every role refusing for seconds after Redis was back).
 *
 * <p>The URI picks the server: {@code redis://host:port[/db]} is one Redis; {@code redis-cluster://h1:p1,h2:p2}
 * ({@link ClusterUri}) is a Redis Cluster, reached through Lettuce's cluster client, which routes each command
 * (and each script, by its first key) to the master of the key's slot and follows MOVED/ASK. Its topology is
 * re-read every {@value #TOPOLOGY_REFRESH_MS} ms and at once on redirects and on a node it cannot reconnect to,
 * so a replica promoted after its master died is found within about a second. Both kinds answer
 * {@link #async()} with the same command interface; what a cluster does differently: one database only (no
 * SELECT), FLUSHDB and KEYS go to every master, MULTI/EXEC is not offered (scripts are the transactions),
 * PING and INFO go to one node, and a script's keys must share a slot (hash tags, {@code Keys}).
 */
public final class RedisStore implements AutoCloseable {
    /** Longest pause between reconnect attempts, unless the role configures another. */
    public static final Duration DEFAULT_RECONNECT_MAX = Duration.ofMillis(500);
    private static final Duration RECONNECT_MIN = Duration.ofMillis(10);
    private static final long TOPOLOGY_REFRESH_MS = 1_000;
    // A dead master's node connection triggers a refresh after this many failed reconnects (tens of ms).
    private static final int REFRESH_AFTER_RECONNECTS = 3;
    // Commands queued per cluster node connection (in flight, or held while it connects); more fail at once.
    private static final int CLUSTER_NODE_QUEUE = 65_536;

    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final ClusterUri cluster; // null: one Redis
    // False for a separate connection (separateConnection): the client and its threads are the parent store's.
    private final boolean ownsClient;
    private final List<Runnable> reconnectListeners = new CopyOnWriteArrayList<>();
    // Set once connect() returned: events before that are the initial connect.
    private volatile StatefulConnection<String, String> connection;
    private volatile RedisClusterAsyncCommands<String, String> async;
    private volatile boolean lost;

    private RedisStore(ClientResources resources, AbstractRedisClient client, ClusterUri cluster, boolean ownsClient) {
        this.resources = resources;
        this.client = client;
        this.cluster = cluster;
        this.ownsClient = ownsClient;
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> handler) {
                // A cluster's node connections are handlers of their own: any of them lost counts.
                if (handler == connection || cluster != null && connection != null) {
                    lost = true;
                }
            }

            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> handler, SocketAddress address) {
                if ((handler == connection || cluster != null && connection != null) && lost) {
                    lost = false;
                    reconnectListeners.forEach(Runnable::run);
                }
            }
        });
        if (client instanceof RedisClusterClient c) {
            StatefulRedisClusterConnection<String, String> conn = c.connect();
            this.async = conn.async();
            this.connection = conn;
        } else {
            StatefulRedisConnection<String, String> conn = ((RedisClient) client).connect();
            this.async = conn.async();
            this.connection = conn;
        }
    }

    private static final java.util.Set<String> SCHEMES =
            java.util.Set.of("redis", "rediss", "redis-socket", "redis-sentinel", "redis-cluster", "rediss-cluster");

    /** Whether {@code uri} names a Redis this store connects to: one server, a Sentinel set or a Cluster. */
    public static boolean isRedisUri(String uri) {
        if (uri == null) {
            return false;
        }
        try {
            String scheme = java.net.URI.create(uri).getScheme();
            return scheme != null && SCHEMES.contains(scheme);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public static RedisStore connect(String uri, Duration commandTimeout) {
        return connect(uri, commandTimeout, DEFAULT_RECONNECT_MAX);
    }

    /**
     * @param uri          {@code redis://host:port[/db]} or {@code redis-cluster://h1:p1,h2:p2[?replicas=N&replica-timeout-ms=T]}
     * @param reconnectMax cap of the exponential pause between reconnect attempts (from 10 ms up)
     */
    public static RedisStore connect(String uri, Duration commandTimeout, Duration reconnectMax) {
        Duration max = reconnectMax.compareTo(RECONNECT_MIN) < 0 ? RECONNECT_MIN : reconnectMax;
        ClusterUri cluster = ClusterUri.isCluster(uri) ? ClusterUri.parse(uri) : null;
        ClientResources resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(RECONNECT_MIN, max, 2, TimeUnit.MILLISECONDS))
                .build();
        AbstractRedisClient client;
        if (cluster == null) {
            RedisClient single = RedisClient.create(resources, RedisURI.create(uri));
            single.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    // While disconnected, fail fast rather than buffer without bound.
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                    .build());
            client = single;
        } else {
            RedisClusterClient clustered = RedisClusterClient.create(resources, cluster.seeds());
            clustered.setOptions(ClusterClientOptions.builder()
                    .autoReconnect(true)
                    // Lettuce opens node connections lazily and, rejecting while disconnected, refuses the first
                    // commands for a node it has not reached yet: hold them instead, bounded in number and by the
                    // command timeout.
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                    .requestQueueSize(CLUSTER_NODE_QUEUE)
                    .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enablePeriodicRefresh(Duration.ofMillis(TOPOLOGY_REFRESH_MS))
                            .enableAllAdaptiveRefreshTriggers()
                            // Lettuce's default lets one adaptive refresh through per 30 s: a failover needs several.
                            .adaptiveRefreshTriggersTimeout(Duration.ofMillis(200))
                            .refreshTriggersReconnectAttempts(REFRESH_AFTER_RECONNECTS)
                            .build())
                    .build());
            client = clustered;
        }
        try {
            return new RedisStore(resources, client, cluster, true);
        } catch (RuntimeException e) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * Another connection to the same Redis (or cluster), on this store's client and I/O threads: for bulk background
     * work, so that the commands of a request are not queued behind it. Replies on one connection come back in order,
     * so a command issued after a burst of long scripts waits for all of them; on a connection of its own it waits at
     * most for the batch Redis is running. Close it before this store.
     */
    public RedisStore separateConnection() {
        return new RedisStore(resources, client, cluster, false);
    }

    /** The commands of the one Redis or of the cluster (routed by key); the same interface for both. */
    public RedisClusterAsyncCommands<String, String> async() {
        return async;
    }

    /** True when connected to a Redis Cluster. */
    public boolean isCluster() {
        return cluster != null;
    }

    /**
     * How a batch of script work whose keys go by group (one device's keys share a slot) is split into script calls:
     * every group in one call on one Redis (a call per group was a good share of its time), one call per group on a
     * cluster (a script's keys must share a slot). No call for no groups.
     */
    public <G> List<List<G>> scriptCalls(Collection<G> groups) {
        if (groups.isEmpty()) {
            return List.of();
        }
        return isCluster() ? groups.stream().map(List::of).toList() : List.of(List.copyOf(groups));
    }

    /**
     * Completes once what this process has written so far to the masters of {@code keys}' slots is on as many
     * replicas as the cluster URI asks for: one {@code WAIT replicas timeout} per master, on the connection the
     * cluster client writes to that master on (WAIT counts the writes of its own connection). Call it after the
     * writes completed. At once for one Redis (its AOF, {@code appendfsync always}, is the copy) and when the URI
     * asks for no replica. Fails with {@link NotReplicatedException} when fewer replicas confirmed within the URI's
     * timeout: the write is then on the master only and a failover before it replicates could lose it.
     */
    public CompletableFuture<Void> replicated(String... keys) {
        if (cluster == null || cluster.replicas() == 0) {
            return CompletableFuture.completedFuture(null);
        }
        StatefulRedisClusterConnection<String, String> conn = (StatefulRedisClusterConnection<String, String>) connection;
        Map<String, RedisClusterNode> masters = new LinkedHashMap<>();
        for (String key : keys) {
            RedisClusterNode master = conn.getPartitions().getPartitionBySlot(SlotHash.getSlot(key));
            if (master == null) {
                return CompletableFuture.failedFuture(new RedisException("no master known for the slot of " + key));
            }
            masters.putIfAbsent(master.getNodeId(), master);
        }
        long timeout = cluster.replicaTimeout().toMillis();
        int wanted = cluster.replicas();
        List<CompletableFuture<Void>> waits = new ArrayList<>(masters.size());
        for (RedisClusterNode master : masters.values()) {
            // By host and port, as the cluster client's writer keys its connections (by node id would open another
            // connection, whose WAIT counts none of these writes); async: this often runs on a Lettuce I/O thread.
            RedisURI at = master.getUri();
            waits.add(conn.getConnectionAsync(at.getHost(), at.getPort(), ConnectionIntent.WRITE)
                    .thenCompose(node -> node.async().waitForReplication(wanted, timeout).toCompletableFuture())
                    .thenAccept(n -> {
                        if (n < wanted) {
                            throw new NotReplicatedException("only " + n + " of " + wanted + " replicas confirmed the write within "
                                    + timeout + " ms (master " + at.getHost() + ":" + at.getPort() + ")");
                        }
                    }));
        }
        return CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new));
    }

    /**
     * A separate pub/sub connection with the same options (reconnects and re-subscribes by
     * itself); the caller closes it before this store. On a cluster, messages published on any node reach it.
     */
    public StatefulRedisPubSubConnection<String, String> connectPubSub() {
        return client instanceof RedisClusterClient c ? c.connectPubSub() : ((RedisClient) client).connectPubSub();
    }

    /**
     * Runs {@code listener} (on a Lettuce thread: must not block) each time a connection of this
     * store comes back after it was lost, e.g. to re-register what expired during an outage.
     */
    public void onReconnect(Runnable listener) {
        reconnectListeners.add(listener);
    }

    /** Liveness for /health: the connection is open (Lettuce reconnects by itself). */
    public boolean isOpen() {
        return connection.isOpen();
    }

    @Override
    public void close() {
        connection.close();
        if (ownsClient) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
