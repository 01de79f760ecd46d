package io.tern.devstack;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real three-master cluster: slots served, replicas in sync, a killed master replaced by its replica. */
class RedisClusterIT {
    private static RedisCluster cluster;

    @BeforeAll
    static void start() {
        cluster = RedisCluster.start(RedisCluster.Options.defaults());
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void threeMastersWithOneReplicaEachServeAllSlots() throws Exception {
        assertEquals(6, cluster.nodes().size());
        long masters = 0;
        for (RedisServer n : cluster.nodes()) {
            String info = (String) RespCall.call(n.port(), "CLUSTER", "INFO");
            assertTrue(info.contains("cluster_state:ok"), info);
            assertTrue(info.contains("cluster_size:3"), info);
            List<?> role = (List<?>) RespCall.call(n.port(), "ROLE");
            masters += "master".equals(role.get(0)) ? 1 : 0;
        }
        assertEquals(3, masters);
        String uri = cluster.uri();
        assertTrue(uri.startsWith("redis-cluster://127.0.0.1:"), uri);
        assertEquals(6, uri.substring("redis-cluster://".length()).split(",").length);
    }

    @Test
    void aKilledMastersReplicaTakesOverAndTheOldMasterRejoinsAsItsReplica() throws Exception {
        String key = "failover-" + System.nanoTime();
        RedisServer master = cluster.masterFor(key);
        assertEquals("OK", RespCall.call(master.port(), "SET", key, "v"));
        // The replica has it before the kill: WAIT answers how many replicas acknowledged (0 while one still syncs).
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                .until(() -> ((Number) RespCall.call(master.port(), "WAIT", "1", "500")).longValue() >= 1);

        cluster.kill(master);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                .until(() -> { try { return cluster.masterFor(key) != master; } catch (IllegalStateException e) { return false; } });
        RedisServer promoted = cluster.masterFor(key);
        assertNotEquals(master.port(), promoted.port());
        assertEquals("v", RespCall.call(promoted.port(), "GET", key));

        cluster.restart(master);
        cluster.awaitHealthy();
        List<?> role = (List<?>) RespCall.call(master.port(), "ROLE");
        assertEquals("slave", role.get(0));
    }
}
