package io.tern.store.redis;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoreFailuresTest {
    @Test
    void aConnectionThatFailsOnItsOwnIoIsAnOutageHoweverItIsWrapped() {
        // What the chaos test saw during a Redis SIGKILL: Redisson wrapping a refused connect, Lettuce a reset.
        assertTrue(StoreFailures.isUnavailable(new CompletionException(
                new RuntimeException("Unexpected exception while processing command", new ConnectException("refused")))));
        assertTrue(StoreFailures.isUnavailable(new IOException("recvAddress(..) failed: Connection reset by peer")));
        assertTrue(StoreFailures.isUnavailable(new RedisCommandTimeoutException("Command timed out after 2 second(s)")));
        assertTrue(StoreFailures.isUnavailable(new RedisException("Currently not connected. Commands are rejected.")));
    }

    @Test
    void aClusterFailingOverOrAWriteNotOnItsReplicaIsRetriedLikeAnOutage() {
        assertTrue(StoreFailures.isUnavailable(new CompletionException(
                new RedisCommandExecutionException("CLUSTERDOWN The cluster is down"))));
        assertTrue(StoreFailures.isUnavailable(new RedisCommandExecutionException("TRYAGAIN Multiple keys request during rehashing")));
        assertTrue(StoreFailures.isUnavailable(new CompletionException(new NotReplicatedException("only 0 of 1 replicas"))));
        assertFalse(StoreFailures.isUnavailable(new RedisCommandExecutionException(
                "CROSSSLOT Keys in request don't hash to the same slot")), "a key schema bug, not an outage");
    }

    @Test
    void anErrorReplyOrABugIsNotAnOutage() {
        assertFalse(StoreFailures.isUnavailable(new RedisCommandExecutionException("ERR wrong number of arguments")));
        assertFalse(StoreFailures.isUnavailable(new CompletionException(new IllegalStateException("bad state"))));
        assertFalse(StoreFailures.isUnavailable(new RedisException("WRONGTYPE Operation against a key")));
        assertFalse(StoreFailures.isUnavailable(new CompletionException(
                new com.fasterxml.jackson.core.JsonParseException(null, "Unexpected character ('x')"))),
                "a stored value that does not parse is not an outage, though Jackson's errors are IOExceptions");
    }
}
