package io.tern.pipeline.id;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.Settings;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.store.Keys;
import io.tern.store.nodeid.NodeIdRepository;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Node ids leased in one Redis by several logic nodes: never two holders, never a repeated msgId. */
class NodeIdLeaseIT {
    private static RedisStore redis;
    private static NodeIdRepository repo;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(5));
        repo = new NodeIdRepository(redis);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static LogicNode node(String id, String nodeId) {
        Map<String, String> m = new HashMap<>(Map.of(
                "logic.id", id,
                "logic.port", "0",
                "logic.dev-mode", "true",
                "logic.redis-uri", SharedInfra.redis().uri(),
                "logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers()));
        m.put("logic.node-id", nodeId);
        return LogicNode.start(LogicConfig.from(Settings.of(m)));
    }

    private static NodeIdLease lease(int configured, String logicId, Duration ttl) {
        return NodeIdLease.acquire(repo, configured, logicId, ttl, System::currentTimeMillis, System::nanoTime,
                new SimpleMeterRegistry());
    }

    @Test
    void logicNodesInAutoModeHoldDifferentIdsAndAConfiguredIdHeldByAnotherNodeRefusesToStart() {
        try (LogicNode a = node("lease-a", "auto"); LogicNode b = node("lease-b", "auto")) {
            assertTrue(a.msgIdNodeId() >= 0 && b.msgIdNodeId() >= 0);
            assertNotEquals(a.msgIdNodeId(), b.msgIdNodeId());
            String taken = Integer.toString(a.msgIdNodeId());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> node("lease-c", taken));
            assertTrue(e.getMessage().contains("logic.node-id " + taken + " is held by another logic node"), e.getMessage());
        }
    }

    @Test
    void aRestartOfTheSameNodeTakesItsIdBackAndNeverRepeatsAnIdIssuedBeforeTheCrash() {
        long t = System.currentTimeMillis();
        Set<Long> issued = new HashSet<>();
        NodeIdLease first = lease(1001, "lease-restart", Duration.ofSeconds(30));
        // The crashed process: its clock a second ahead of the next one's, so it used later milliseconds.
        MsgIdGenerator before = new MsgIdGenerator(first, () -> t + 1_000);
        for (int i = 0; i < 100; i++) {
            issued.add(before.next());
        }
        // Crash: no release. The restart (same logic.id, new token) takes the id over at once.
        NodeIdLease second = lease(1001, "lease-restart", Duration.ofSeconds(30));
        try {
            MsgIdGenerator after = new MsgIdGenerator(second, () -> t);
            for (int i = 0; i < 100; i++) {
                long id = after.next();
                assertEquals(1001, MsgIdGenerator.nodeIdOf(id));
                assertTrue(issued.add(id), "id " + id + " was issued before the crash");
            }
            // The crashed holder, had it survived, finds its lease gone and stops issuing.
            await().atMost(Duration.ofSeconds(30)).until(() -> first.current() == null);
            assertThrows(PushException.class, before::next);
        } finally {
            first.close();
            second.close();
        }
    }

    @Test
    void aNodeWhoseLeaseIsTakenStopsIssuingIdsUntilItLeasesOneAgain() {
        NodeIdLease lease = lease(1002, "lease-lost", Duration.ofMillis(900));
        try {
            MsgIdGenerator ids = new MsgIdGenerator(lease, System::currentTimeMillis);
            ids.next();
            // Another node's lease appears under our id (as after an expiry we did not notice).
            redis.async().set(Keys.nodeIdLease(1002), "intruder|t").toCompletableFuture().join();
            await().atMost(Duration.ofSeconds(30)).until(() -> lease.current() == null);
            PushException e = assertThrows(PushException.class, ids::next);
            assertEquals(PushError.IDS_UNAVAILABLE, e.error());
            redis.async().del(Keys.nodeIdLease(1002)).toCompletableFuture().join();
            await().atMost(Duration.ofSeconds(30)).until(() -> lease.current() != null);
            assertEquals(1002, MsgIdGenerator.nodeIdOf(ids.next()));
        } finally {
            lease.close();
        }
    }

    @Test
    void aClosedNodeFreesItsIdForAnotherNode() {
        lease(1003, "lease-first", Duration.ofSeconds(30)).close();
        NodeIdLease other = lease(1003, "lease-other", Duration.ofSeconds(30));
        other.close();
    }
}
