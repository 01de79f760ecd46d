package io.tern.store.message;

import io.tern.devstack.RedisCluster;
import io.tern.devstack.RedisServer;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.redis.NotReplicatedException;
import io.tern.store.redis.RedisOutage;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pushes accepted through the store while one master of a real Redis Cluster is killed (SIGKILL): its replica is
 * promoted, accepts go on, and every message whose accept was acknowledged is readable afterwards; a master whose
 * replica is killed acknowledges no group-push record (task, list copy, broadcast, recall) until the replica is back; the outage
 * detector's PING sees the whole cluster go and come back. Its own cluster
 * (the shared one must stay whole), so only the pom's cluster run has it.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterFailoverIT {
    private static final Logger log = LoggerFactory.getLogger(ClusterFailoverIT.class);
    private static final int DEVICES = 60;
    private static final int IN_FLIGHT = 16;
    private static final long NOW = System.currentTimeMillis();
    private static RedisCluster cluster;
    private static RedisStore redis;

    @BeforeAll
    static void start() {
        cluster = RedisCluster.start(RedisCluster.Options.defaults().withNodeTimeoutMs(1_000));
        redis = RedisStore.connect(cluster.uri(), Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() {
        if (redis != null) {
            redis.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aKilledMastersReplicaTakesOverAndNoAcknowledgedAcceptIsLost() throws Exception {
        String app = "failover-" + System.nanoTime();
        RouteRepository routes = new RouteRepository(redis);
        MessageRepository messages = new MessageRepository(redis,
                new QueuePolicy(10_000, Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(1)));
        List<String> devices = new ArrayList<>();
        for (int i = 0; i < DEVICES; i++) {
            devices.add("d" + i);
            routes.put(app, "d" + i, new Route("b1", "1." + i), NOW).join();
        }
        RedisServer victim = cluster.masterFor(Keys.route(app, devices.get(0)));
        Set<String> onVictim = ConcurrentHashMap.newKeySet();
        for (String d : devices) {
            if (cluster.masterFor(Keys.route(app, d)) == victim) {
                onVictim.add(d);
            }
        }

        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicLong refused = new AtomicLong();
        AtomicLong acceptedOnVictimSlots = new AtomicLong();
        AtomicLong ids = new AtomicLong(System.nanoTime());
        AtomicBoolean running = new AtomicBoolean(true);
        Semaphore inFlight = new Semaphore(IN_FLIGHT);
        Thread producer = new Thread(() -> {
            int n = 0;
            while (running.get()) {
                inFlight.acquireUninterruptibly();
                String device = devices.get(n++ % devices.size());
                long id = ids.incrementAndGet();
                messages.accept(new NewMessage(id, app, device, PayloadKind.DATA, "{\"n\":" + id + "}", NOW,
                        NOW + Duration.ofHours(1).toMillis(), null, null, null)).whenComplete((r, e) -> {
                    inFlight.release();
                    if (e == null && r.created()) {
                        acknowledged.add(r.msgId());
                        if (onVictim.contains(device)) {
                            acceptedOnVictimSlots.incrementAndGet();
                        }
                    } else {
                        refused.incrementAndGet();
                    }
                });
            }
        }, "failover-producer");
        producer.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> acceptedOnVictimSlots.get() >= 200);
            long beforeKill = acknowledged.size();
            long killedAt = System.nanoTime();
            cluster.kill(victim);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> promoted(app, devices.get(0), victim));
            long promotedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            // The promoted master has no replica until the killed node comes back as one (a supervisor restarts it);
            // until then its accepts fail (WAIT 1), and the other masters' accepts go on.
            cluster.restart(victim);
            long victimAccepts = acceptedOnVictimSlots.get();
            await().atMost(Duration.ofSeconds(20)).until(() -> acceptedOnVictimSlots.get() >= victimAccepts + 200);
            long resumedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            running.set(false);
            producer.join(5_000);
            inFlight.acquire(IN_FLIGHT);

            long lost = acknowledged.stream().filter(id -> messages.find(id).join() == null).count();
            log.info("failover: {} accepts acknowledged ({} before the kill), {} refused; replica promoted {} ms and "
                            + "accepts on its slots back {} ms after the kill (node timeout 1000 ms); lost {}",
                    acknowledged.size(), beforeKill, refused.get(), promotedMs, resumedMs, lost);
            assertTrue(acknowledged.size() > beforeKill, "accepts went on after the failover");
            assertEquals(0, lost, "acknowledged accepts missing after the failover");
            assertNotEquals(victim, cluster.masterFor(Keys.route(app, devices.get(0))));
        } finally {
            running.set(false);
            producer.join(5_000);
        }
    }

    @Test
    void aMasterWithoutItsReplicaAcknowledgesNoTaskListCopyBroadcastOrRecall() {
        cluster.awaitHealthy();
        String app = "replicas-" + System.nanoTime();
        TaskRepository tasks = new TaskRepository(redis,
                new QueuePolicy(10_000, Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(1)));
        BroadcastLog broadcasts = new BroadcastLog(redis);
        long firstId = System.nanoTime();
        RedisServer victim = cluster.masterFor(Keys.task(firstId));
        long broadcastTask = firstId + 1;
        while (cluster.masterFor(Keys.task(broadcastTask)) != victim) {
            broadcastTask++;
        }
        String device = "d0";
        for (int i = 1; cluster.masterFor(Keys.queue(app, device)) != victim; i++) {
            device = "d" + i;
        }
        tasks.create(task(broadcastTask, app), TaskState.CREATED).join();
        RedisServer replica = cluster.replicaOf(victim);
        cluster.kill(replica);
        try {
            // Each write reaches the master; none is acknowledged while no replica has it (a failover would lose it).
            assertNotReplicated(tasks.create(task(firstId, app), TaskState.CREATED));
            assertEquals(List.of(true), tasks.enqueue(app, broadcastTask, List.of(device), NOW).join());
            assertNotReplicated(tasks.copiesReplicated(app, List.of(device)));
            assertNotReplicated(broadcasts.append(app, broadcastTask, NOW + Duration.ofHours(1).toMillis()));
            assertNotReplicated(tasks.recall(broadcastTask, NOW));
        } finally {
            cluster.restart(replica);
            cluster.awaitHealthy();
        }
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> tasks.create(task(firstId, app), TaskState.CREATED).join() == null);
        tasks.copiesReplicated(app, List.of(device)).join();
    }

    private static TaskBody task(long taskId, String app) {
        return new TaskBody(taskId, app, PayloadKind.DATA, "{}", NOW, NOW + Duration.ofHours(1).toMillis(), null, null, 0);
    }

    private static void assertNotReplicated(CompletableFuture<?> write) {
        CompletionException e = assertThrows(CompletionException.class, write::join);
        assertInstanceOf(NotReplicatedException.class, e.getCause(), e.toString());
    }

    @Test
    void theOutageDetectorSeesAWholeClusterGoAndComeBack() {
        try (RedisOutage outage = RedisOutage.watch(redis, Duration.ofMillis(500), Duration.ofMillis(50),
                System::currentTimeMillis, "cluster-it")) {
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(5)).until(() -> !outage.isOutage());
            cluster.nodes().forEach(cluster::kill);
            await().atMost(Duration.ofSeconds(10)).until(outage::isOutage);
            cluster.nodes().forEach(cluster::restart);
            cluster.awaitHealthy();
            await().atMost(Duration.ofSeconds(15)).until(() -> !outage.isOutage());
            assertEquals(1, outage.outages());
        }
    }

    private static boolean promoted(String app, String device, RedisServer victim) {
        try {
            return cluster.masterFor(Keys.route(app, device)) != victim;
        } catch (IllegalStateException e) {
            return false; // no master for the slot yet
        }
    }
}
