package io.tern.store.redis;

import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Tells "Redis is unreachable right now" apart from every other failure, in one place, so the
 * APIs answer 503 with Retry-After during an outage instead of 500.
 */
public final class StoreFailures {
    /**
     * Redisson's equivalents, by name: the store module does not depend on Redisson, and these
     * names are Redisson's public API.
     */
    private static final Set<String> REDISSON_UNAVAILABLE = Set.of(
            "org.redisson.client.RedisConnectionException",
            "org.redisson.client.RedisTimeoutException",
            "org.redisson.client.RedisResponseTimeoutException",
            "org.redisson.client.RedisRetryException",
            "org.redisson.client.RedisNodeNotFoundException",
            "org.redisson.client.RedisLoadingException",
            "org.redisson.client.RedisReconnectedException",
            "org.redisson.client.WriteRedisConnectionException");
    /** Messages of Lettuce's plain RedisException when a command meets no connection. */
    private static final String[] LETTUCE_DISCONNECTED = {
            "Currently not connected", "Connection closed", "Connection is closed", "Connection disconnected"};
    /** Error replies of a Redis Cluster in the middle of a failover or resharding: retry shortly. */
    private static final String[] CLUSTER_TRANSIENT = {"CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN"};
    private static final int MAX_CAUSES = 8;

    private StoreFailures() {
    }

    /**
     * True when {@code failure} (or one of its causes) says Redis is unreachable, busy loading, timed out, a cluster
     * is failing over, or a write did not reach its replicas in time ({@link NotReplicatedException}).
     */
    public static boolean isUnavailable(Throwable failure) {
        Throwable t = failure;
        for (int i = 0; t != null && i < MAX_CAUSES; i++, t = t.getCause()) {
            if (t instanceof CompletionException || t instanceof ExecutionException) {
                continue;
            }
            if (t instanceof io.lettuce.core.RedisConnectionException
                    || t instanceof io.lettuce.core.RedisCommandTimeoutException
                    || t instanceof io.lettuce.core.RedisLoadingException
                    // The connection's own I/O failing: refused, reset by peer (Netty's NativeIoException), closed.
                    // Jackson's parse errors are IOExceptions too, but a stored value that does not parse is a bug
                    // or bad data: answering 503 "try again" would have the caller retry it forever.
                    || t instanceof java.io.IOException && !(t instanceof com.fasterxml.jackson.core.JacksonException)
                    || t instanceof NotReplicatedException
                    || REDISSON_UNAVAILABLE.contains(t.getClass().getName())) {
                return true;
            }
            if (t instanceof io.lettuce.core.RedisCommandExecutionException && t.getMessage() != null) {
                for (String m : CLUSTER_TRANSIENT) {
                    if (t.getMessage().startsWith(m)) {
                        return true;
                    }
                }
            }
            if (t instanceof io.lettuce.core.RedisException && t.getMessage() != null) {
                for (String m : LETTUCE_DISCONNECTED) {
                    if (t.getMessage().startsWith(m)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
