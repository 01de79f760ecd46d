package io.tern.store.route;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Tells a broker to close a device's session that moved to another broker: a Redis pub/sub
 * channel per broker, {@code tern:broker:{id}:evict}, whose message names the app, the regId and
 * the epoch of the route that was replaced. Fire and forget: a lost message leaves the old
 * session until its idle timeout (pushes already go to the new route).
 */
public final class SessionEvictions implements AutoCloseable {
    /** One eviction: close the session of {@code (appId, regId)} if its route epoch is still {@code epoch}. */
    public record Eviction(String appId, String regId, String epoch) {
        /** A JSON array: a regId may hold any character. */
        String encode() {
            try {
                return JSON.writeValueAsString(new String[]{appId, regId, epoch});
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** @return the eviction, or null for a message that is not one */
        static Eviction decode(String message) {
            try {
                String[] parts = JSON.readValue(message, String[].class);
                return parts.length == 3 && parts[0] != null && parts[1] != null && parts[2] != null
                        ? new Eviction(parts[0], parts[1], parts[2]) : null;
            } catch (JsonProcessingException e) {
                return null;
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final RedisStore redis;
    private StatefulRedisPubSubConnection<String, String> subscription;

    public SessionEvictions(RedisStore redis) {
        this.redis = redis;
    }

    public static String channel(String brokerId) {
        return Keys.brokerEvictions(brokerId);
    }

    /**
     * Asks the broker of {@code replaced} to close that connection. Never blocks. Completes with the subscribers of
     * the node that took the PUBLISH: on a Redis Cluster the message reaches every node's subscribers, but only that
     * node's are counted.
     */
    public CompletableFuture<Long> publish(String appId, String regId, Route replaced) {
        return redis.async().publish(channel(replaced.brokerId()),
                new Eviction(appId, regId, replaced.epoch()).encode()).toCompletableFuture();
    }

    /**
     * Listens to {@code brokerId}'s channel on a pub/sub connection of its own; Lettuce
     * re-subscribes after a reconnect. {@code handler} runs on a Lettuce thread and must not block.
     */
    public synchronized void subscribe(String brokerId, Consumer<Eviction> handler) {
        if (subscription != null) {
            throw new IllegalStateException("already subscribed");
        }
        subscription = redis.connectPubSub();
        String channel = channel(brokerId);
        subscription.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String ch, String message) {
                if (channel.equals(ch)) {
                    Eviction e = Eviction.decode(message);
                    if (e != null) {
                        handler.accept(e);
                    }
                }
            }
        });
        subscription.sync().subscribe(channel);
    }

    @Override
    public synchronized void close() {
        if (subscription != null) {
            subscription.close();
            subscription = null;
        }
    }
}
