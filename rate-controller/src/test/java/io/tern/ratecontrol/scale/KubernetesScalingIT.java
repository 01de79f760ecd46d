package io.tern.ratecontrol.scale;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.store.redis.RedisStore;
import io.tern.store.throttle.ReplicaFloor;
import io.tern.store.throttle.ReplicaFloorRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scaler against fabric8's Kubernetes mock API server in CRUD mode (a Deployment stored and scaled as an API
 * server would) with floors in a real Redis. The clock is injected and each test drives the loop tick by tick,
 * so five minutes pass in no time.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesScalingIT {
    private static final int DB = 9;
    private static final String NS = "tern";
    private static final long T0 = 1_700_000_000_000L;
    static KubernetesClient client;
    static KubernetesMockServer server;
    private static RedisStore redis;

    private final AtomicLong now = new AtomicLong(T0);
    private final AtomicLong lag = new AtomicLong();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private ReplicaFloorRepository floors;
    private Scaler scaler;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(SharedInfra.redis().uri() + "/" + DB, Duration.ofSeconds(2));
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }

    private Scaler newScaler() {
        // min 1, 1000 records per replica, 12 partitions, down after 5 minutes.
        return new Scaler(new ScaleDecision(1, 1000, Duration.ofMinutes(5), now::get),
                new KubernetesReplicas(client, NS, ScaleConfig.DEFAULT_DEPLOYMENT), lag::get, () -> 12,
                new ReplicaFloorRepository(redis), () -> true, now::get, Duration.ofSeconds(5), Duration.ofSeconds(5),
                registry, "test");
    }

    @BeforeEach
    void deploymentAtOneReplica() {
        redis.async().flushdb().toCompletableFuture().join();
        client.apps().deployments().inNamespace(NS).resource(new DeploymentBuilder()
                .withNewMetadata().withName(ScaleConfig.DEFAULT_DEPLOYMENT).withNamespace(NS).endMetadata()
                .withNewSpec().withReplicas(1)
                .withNewSelector().addToMatchLabels("app", "bypass").endSelector()
                .withNewTemplate().withNewMetadata().addToLabels("app", "bypass").endMetadata()
                .withNewSpec().addNewContainer().withName("bypass").withImage("tern/bypass-consumer").endContainer()
                .endSpec().endTemplate().endSpec().build()).createOr(r -> r.update());
        floors = new ReplicaFloorRepository(redis);
        scaler = newScaler();
    }

    @AfterEach
    void close() {
        scaler.close();
        client.apps().deployments().inNamespace(NS).withName(ScaleConfig.DEFAULT_DEPLOYMENT).delete();
    }

    private int deploymentReplicas() {
        Deployment d = client.apps().deployments().inNamespace(NS).withName(ScaleConfig.DEFAULT_DEPLOYMENT).get();
        return d.getSpec().getReplicas();
    }

    /** "METHOD path" of the requests the mock server took since the last call. */
    private static List<String> drainRequests() throws InterruptedException {
        List<String> out = new ArrayList<>();
        RecordedRequest r;
        while ((r = server.takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
            out.add(r.getMethod() + " " + r.getPath());
        }
        return out;
    }

    private void after(Duration d) {
        now.addAndGet(d.toMillis());
    }

    @Test
    void risingLagSetsTheDeploymentsReplicasUpAtOnce() throws InterruptedException {
        lag.set(0);
        scaler.tick();
        assertEquals(1, deploymentReplicas());
        lag.set(7_500);
        after(Duration.ofSeconds(5));
        drainRequests();
        Scaler.Status s = scaler.tick();
        List<String> calls = drainRequests();
        assertTrue(calls.stream().anyMatch(c -> !c.startsWith("GET ")
                        && c.endsWith("/deployments/" + ScaleConfig.DEFAULT_DEPLOYMENT + "/scale")),
                "set through the scale subresource: " + calls);
        assertEquals(8, deploymentReplicas());
        assertEquals(8, s.replicas());
        assertEquals(1.0, registry.get("tern.scale.decisions").tag("direction", "up").counter().count());
        assertEquals(8.0, registry.get("tern.scale.target.replicas").gauge().value());
        assertEquals(7500.0, registry.get("tern.scale.lag").gauge().value());
    }

    @Test
    void fallingLagSetsReplicasDownOnlyAfterFiveMinutes() {
        lag.set(9_000);
        scaler.tick();
        assertEquals(9, deploymentReplicas());
        lag.set(2_000);
        // The delay counts from the first tick that sees the lower target (tick 1); tick 60 is 4 min 55 s later.
        for (int i = 0; i < 60; i++) {
            after(Duration.ofSeconds(5));
            scaler.tick();
            assertEquals(9, deploymentReplicas(), "still within the scale-down delay after " + (i + 1) + " ticks");
        }
        after(Duration.ofSeconds(5));
        Scaler.Status s = scaler.tick();
        assertEquals(2, deploymentReplicas());
        assertTrue(s.last().why().startsWith("down after PT5M"), s.last().why());
        assertEquals(1.0, registry.get("tern.scale.decisions").tag("direction", "down").counter().count());
    }

    @Test
    void aScheduledFloorRaisesReplicasAtItsStartAndReleasesThemAfter() {
        long start = T0 + Duration.ofMinutes(10).toMillis();
        long end = start + Duration.ofMinutes(30).toMillis();
        floors.put(new ReplicaFloor("match-final", start, end, 6, "sre: match final")).join();
        scaler.tick();
        assertEquals(1, deploymentReplicas(), "the floor is ahead");
        now.set(start - 1);
        scaler.tick();
        assertEquals(1, deploymentReplicas());
        now.set(start);
        Scaler.Status raised = scaler.tick();
        assertEquals(6, deploymentReplicas(), "raised at the floor's start");
        assertEquals(1, raised.activeFloors().size());
        now.set(end - 1);
        scaler.tick();
        assertEquals(6, deploymentReplicas());
        now.set(end);
        scaler.tick();
        assertEquals(6, deploymentReplicas(), "a released floor goes down like falling lag: after the delay");
        now.set(end + Duration.ofMinutes(5).toMillis());
        scaler.tick();
        assertEquals(1, deploymentReplicas(), "released five minutes after the floor's end");
        assertTrue(floors.current(now.get()).join().isEmpty(), "the expired floor was removed on read");
    }

    @Test
    void replicasChangedByHandAreSetBackToTheDecision() {
        lag.set(3_000);
        scaler.tick();
        assertEquals(3, deploymentReplicas());
        client.apps().deployments().inNamespace(NS).withName(ScaleConfig.DEFAULT_DEPLOYMENT).scale(1);
        after(Duration.ofSeconds(5));
        scaler.tick();
        assertEquals(3, deploymentReplicas());
    }

    @Test
    void aFloorActsFromItsStartToItsEndAcrossAControllerRestart() {
        // Written while no scaler runs: a floor is state in Redis, read on every tick, not a timer armed in a
        // process, so no restart can lose or repeat it.
        long start = T0 + Duration.ofMinutes(1).toMillis();
        long end = start + Duration.ofMinutes(30).toMillis();
        floors.put(new ReplicaFloor("peak", start, end, 5, "scheduled task 42")).join();
        now.set(start + 1000);
        scaler.tick();
        assertEquals(5, deploymentReplicas());

        scaler.close();
        now.set(start + Duration.ofMinutes(10).toMillis());
        scaler = newScaler();
        Scaler.Status afterRestart = scaler.tick();
        assertEquals(5, deploymentReplicas(), "the restarted controller keeps the floor");
        assertEquals("peak", afterRestart.activeFloors().get(0).id());

        scaler.close();
        now.set(end + Duration.ofMinutes(1).toMillis());
        scaler = newScaler();
        scaler.tick();
        assertEquals(5, deploymentReplicas(), "after the floor's end a restarted controller still waits before cutting");
        now.set(end + Duration.ofMinutes(6).toMillis());
        scaler.tick();
        assertEquals(1, deploymentReplicas());
    }
}
