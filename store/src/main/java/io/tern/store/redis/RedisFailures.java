package io.tern.store.redis;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;

import java.util.concurrent.TimeoutException;

/** Tells an unreachable or slow Redis apart from Redis refusing a command (e.g. a script error on bad data). */
public final class RedisFailures {
    private RedisFailures() {
    }

    /**
     * True when {@code e} (or a cause) says Redis could not be reached or did not answer in time: retrying later
     * may succeed. False for an error reply, which the same input would get again.
     */
    public static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RedisCommandExecutionException) {
                return false;
            }
            if (t instanceof RedisException || t instanceof TimeoutException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
