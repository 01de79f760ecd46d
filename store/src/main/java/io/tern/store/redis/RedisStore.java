package io.tern.store.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One Lettuce connection per process: Lettuce multiplexes and pipelines async commands over
 * it, which is what the hot path wants. Commands time out instead of hanging a request.
 */
public final class RedisStore implements AutoCloseable {
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;

    private RedisStore(RedisClient client, StatefulRedisConnection<String, String> connection) {
        this.client = client;
        this.connection = connection;
    }

    public static RedisStore connect(String uri, Duration commandTimeout) {
        RedisClient client = RedisClient.create(RedisURI.create(uri));
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // While disconnected, fail fast rather than buffer without bound.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .build());
        return new RedisStore(client, client.connect());
    }

    public RedisAsyncCommands<String, String> async() {
        return connection.async();
    }

    /** Liveness for /health: the connection is open (Lettuce reconnects by itself). */
    public boolean isOpen() {
        return connection.isOpen();
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
