package io.tern.store.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One Lettuce connection per process: Lettuce multiplexes and pipelines async commands over
 * it, which is what the hot path wants. Commands time out instead of hanging a request; while
 * Redis is unreachable they fail at once ({@link StoreFailures#isUnavailable}), and the
 * connection is retried every few hundred milliseconds (Lettuce's default backs off to 30 s,
 * which kept every role refusing for seconds after Redis was back).
 */
public final class RedisStore implements AutoCloseable {
    /** Longest pause between reconnect attempts, unless the role configures another. */
    public static final Duration DEFAULT_RECONNECT_MAX = Duration.ofMillis(500);
    private static final Duration RECONNECT_MIN = Duration.ofMillis(10);

    private final ClientResources resources;
    private final RedisClient client;
    private final List<Runnable> reconnectListeners = new CopyOnWriteArrayList<>();
    // Set once connect() returned: events before that are the initial connect.
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile boolean lost;

    private RedisStore(ClientResources resources, RedisClient client) {
        this.resources = resources;
        this.client = client;
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> handler) {
                if (handler == connection) {
                    lost = true;
                }
            }

            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> handler, SocketAddress address) {
                if (handler == connection && lost) {
                    lost = false;
                    reconnectListeners.forEach(Runnable::run);
                }
            }
        });
        this.connection = client.connect();
    }

    public static RedisStore connect(String uri, Duration commandTimeout) {
        return connect(uri, commandTimeout, DEFAULT_RECONNECT_MAX);
    }

    /** @param reconnectMax cap of the exponential pause between reconnect attempts (from 10 ms up) */
    public static RedisStore connect(String uri, Duration commandTimeout, Duration reconnectMax) {
        Duration max = reconnectMax.compareTo(RECONNECT_MIN) < 0 ? RECONNECT_MIN : reconnectMax;
        ClientResources resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(RECONNECT_MIN, max, 2, TimeUnit.MILLISECONDS))
                .build();
        RedisClient client = RedisClient.create(resources, RedisURI.create(uri));
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // While disconnected, fail fast rather than buffer without bound.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .build());
        try {
            return new RedisStore(resources, client);
        } catch (RuntimeException e) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        }
    }

    public RedisAsyncCommands<String, String> async() {
        return connection.async();
    }

    /**
     * A separate pub/sub connection with the same options (reconnects and re-subscribes by
     * itself); the caller closes it before this store.
     */
    public StatefulRedisPubSubConnection<String, String> connectPubSub() {
        return client.connectPubSub();
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
        client.shutdown(0, 2, TimeUnit.SECONDS);
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
