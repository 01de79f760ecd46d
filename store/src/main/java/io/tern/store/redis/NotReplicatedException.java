package io.tern.store.redis;

import io.lettuce.core.RedisException;

/**
 * A write reached its cluster master but not, within the cluster URI's timeout, the replicas it asks for
 * ({@link RedisStore#replicated}): not acknowledged, since a failover now could lose it. The caller retries.
 */
public final class NotReplicatedException extends RedisException {
    public NotReplicatedException(String message) {
        super(message);
    }
}
