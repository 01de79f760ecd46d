package io.tern.store.redis;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedisUriTest {
    @Test
    void oneServerASentinelSetOrAClusterIsARedisUri() {
        assertTrue(RedisStore.isRedisUri("redis://127.0.0.1:6390/3"));
        assertTrue(RedisStore.isRedisUri("rediss://:secret@redis.example:6380"));
        assertTrue(RedisStore.isRedisUri("redis-sentinel://s1:26379,s2:26379#mymaster"));
        assertTrue(RedisStore.isRedisUri("redis-cluster://r1:6379,r2:6379,r3:6379?replicas=1"));
    }

    @Test
    void anythingElseIsNotEvenWhenItDoesNotParse() {
        assertFalse(RedisStore.isRedisUri(null));
        assertFalse(RedisStore.isRedisUri("redis-master:6379"), "a host and port, no scheme");
        assertFalse(RedisStore.isRedisUri("127.0.0.1:6379"), "not a URI at all (it was an NPE in the broker's check)");
        assertFalse(RedisStore.isRedisUri("http://127.0.0.1:6379"));
    }
}
