package io.tern.local.e2e;

import io.tern.broker.Broker;
import io.tern.client.TernClient;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.group.AckFilterConfig;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.link.LinkProof;
import io.tern.store.Keys;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskRepository;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broadcast whose logic node died right after answering, having sent it to one broker whose answer it never
 * recorded: the platform's logic node finds the unfinished fan-out once its lease ran out and finishes it, and
 * every online SDK device gets the broadcast exactly once, not even a duplicate for its SDK to drop (the broker
 * that had it already answers the resend without writing again), with the task's counters counting each copy once.
 */
class BroadcastTakeoverIT {
    private static final int DEVICES = 30;
    private static final String SECRET = "bcast-takeover-it-" + UUID.randomUUID();

    @Test
    void aFanOutLeftByADeadNodeReachesEveryOnlineDeviceOnce() throws Exception {
        try (PlatformFixture platform = PlatformFixture.start("e2e-bcast-takeover", Map.of(
                "broker.cluster-secret", SECRET, "logic.cluster-secret", SECRET,
                "logic.task-lease-ttl", "1s",
                "logic.task-sweep", "200ms"));
             Devices devices = platform.devices();
             RedisStore redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(10))) {
            List<String> names = IntStream.range(0, DEVICES).mapToObj(i -> "d" + i).toList();
            List<TernClient> clients = devices.startAll(names);
            await().atMost(Duration.ofSeconds(60)).until(() -> clients.stream()
                    .allMatch(c -> c.state() == TernClient.State.CONNECTED));
            await().atMost(Duration.ofSeconds(10)).until(() -> platform.cluster.brokers().stream()
                    .mapToInt(Broker::connectionCount).sum() == DEVICES);
            // The dead node's share: the broker holding the most of the devices.
            Broker first = platform.cluster.brokers().stream()
                    .max((a, b) -> Integer.compare(a.connectionCount(), b.connectionCount())).orElseThrow();
            int onFirst = first.connectionCount();

            PushApiClient api = platform.api();
            String id = api.createTask("all", "after a crash", null);
            long taskId = Long.parseLong(id);
            TaskRepository tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(7),
                    Duration.ofDays(1), Duration.ofHours(24)));
            StoredTask task = tasks.find(taskId).join();

            // What the dead node did: recorded the broadcast as the all push does, answered, sent it to one broker,
            // and died before recording that broker's answer or renewing its lease.
            AckFilterConfig filter = AckFilterConfig.defaults();
            tasks.markBroadcast(taskId, filter.bitsFor(DEVICES), filter.probes()).join();
            tasks.markSending(taskId).join();
            long seq = new BroadcastLog(redis).append(platform.appId, taskId, task.body().expiresAtMillis()).join();
            BrokerRegistry registry = new BrokerRegistry(redis);
            try (BrokerDirectory directory = new BrokerDirectory(registry, Duration.ofMillis(200), Duration.ofSeconds(2),
                    Clock.systemUTC(), "it dead node").start();
                 BrokerLinks links = new BrokerLinks("it-dead-node", new LinkProof(SECRET), Duration.ofSeconds(5),
                         Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(10), 100, null)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> directory.get(first.id()) != null);
                BrokerInfo b = directory.get(first.id());
                Frame.Push push = new Frame.Push(taskId, task.body().expiresAtMillis(), task.body().kind(),
                        task.body().payload().getBytes(StandardCharsets.UTF_8), seq);
                assertEquals(onFirst, links.broadcast(b, platform.appId, push, true).get(10, TimeUnit.SECONDS).written());
            }
            tasks.startFanout(taskId, System.currentTimeMillis()).join(); // its lease: over at once

            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
                    redis.async().zscore(Keys.fanoutTasks(), id).toCompletableFuture().join() == null);
            await().atMost(Duration.ofSeconds(30)).until(() -> names.stream().allMatch(n -> copies(devices, n, id) >= 1));
            // Brokers answer after writing, and the fan-out left the index after both answered; the acks counted
            // after that: a second copy would have reached its device before this.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                    .until(() -> api.task(id).get("delivered").asLong() == DEVICES);

            for (String n : names) {
                assertEquals(1, copies(devices, n, id), n + " got the broadcast once");
            }
            // Not a duplicate the SDK dropped either: no broker wrote it to a device twice.
            assertEquals(0, clients.stream().mapToLong(c -> c.stats().duplicatesDropped()).sum(),
                    "copies written twice and dropped by the SDK");
            var t = api.task(id);
            assertEquals(DEVICES, t.get("sent").asLong(), "each broker's copies counted once: " + t);
            assertEquals(DEVICES, t.get("targeted").asLong(), t.toString());
            assertTrue(Long.parseLong(redis.async().hget(Keys.task(taskId), "fotakeovers").toCompletableFuture().join())
                    >= 1, "finished by a takeover");
        }
    }

    private static long copies(Devices devices, String name, String taskId) {
        return devices.receivedBy(name).stream().filter(m -> Long.toString(m.msgId()).equals(taskId)).count();
    }
}
