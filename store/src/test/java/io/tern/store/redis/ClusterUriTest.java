package io.tern.store.redis;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterUriTest {
    @Test
    void everyHostIsASeedAndTheReplicaWaitDefaultsToOneReplicaWithin500Ms() {
        ClusterUri u = ClusterUri.parse("redis-cluster://10.0.0.1:7000,10.0.0.2:7001");
        assertEquals(List.of("redis://10.0.0.1:7000", "redis://10.0.0.2:7001"), u.addresses());
        assertEquals(1, u.replicas());
        assertEquals(Duration.ofMillis(500), u.replicaTimeout());
        assertNull(u.password());
    }

    @Test
    void credentialsTlsAndWaitParametersAreRead() {
        ClusterUri u = ClusterUri.parse("rediss-cluster://app:p%40ss@h1:1,h2:2?replicas=0&replica-timeout-ms=50");
        assertEquals("app", u.user());
        assertEquals("p@ss", u.password());
        assertTrue(u.seeds().get(0).isSsl());
        assertEquals(List.of("rediss://h1:1", "rediss://h2:2"), u.addresses());
        assertEquals(0, u.replicas());
        assertEquals(Duration.ofMillis(50), u.replicaTimeout());
        assertFalse(u.toString().contains("p@ss"));
    }

    @Test
    void badClusterUrisAreRefusedWithTheReason() {
        assertTrue(ClusterUri.isCluster("redis-cluster://h:1"));
        assertFalse(ClusterUri.isCluster("redis://h:1"));
        assertThrows(IllegalArgumentException.class, () -> ClusterUri.parse("redis-cluster://h:1/3"), "only db 0");
        assertThrows(IllegalArgumentException.class, () -> ClusterUri.parse("redis-cluster://h"), "no port");
        assertThrows(IllegalArgumentException.class, () -> ClusterUri.parse("redis-cluster://h:1?replicas=9"));
        assertThrows(IllegalArgumentException.class, () -> ClusterUri.parse("redis-cluster://h:1?wait=1"));
        assertEquals(1, ClusterUri.parse("redis-cluster://h:1/0").seeds().size());
    }
}
