package io.tern.bypass.drain;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.buffer.BufferedPush;
import io.tern.pipeline.kafka.DeadLetters;
import io.tern.pipeline.permit.PermitConfig;
import io.tern.pipeline.permit.PermitGate;
import io.tern.store.redis.RedisStore;
import io.tern.store.redis.StoreFailures;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static io.tern.bypass.drain.BufferFixture.AWAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The drain on the real Kafka and Redis: contiguous commits, dead letters, pacing by the permit. */
class DrainConsumerIT {
    private static BufferFixture kafka;
    private static RedisStore redis;

    @BeforeAll
    static void start() {
        kafka = new BufferFixture();
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(5));
    }

    @AfterAll
    static void stop() {
        kafka.close();
        redis.close();
    }

    private static DrainConfig config(int perPartition) {
        return new DrainConfig(perPartition, Math.max(perPartition, 1000), 100, Duration.ofMillis(50), 3,
                Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(6), Duration.ofSeconds(30));
    }

    /** A real handler: records each handled msgId in a Redis set (idempotent, as the store's accept is). */
    private static CompletableFuture<?> record(String handledKey, BufferedPush p) {
        return redis.async().sadd(handledKey, Long.toString(p.msgId())).toCompletableFuture();
    }

    private static Set<Long> handled(String key) {
        return redis.async().smembers(key).toCompletableFuture().join().stream().map(Long::parseLong)
                .collect(Collectors.toSet());
    }

    private static DrainConsumer drain(String topic, String group, DrainConfig config, BufferHandler handler,
                                       DrainPermit permit, SimpleMeterRegistry registry) {
        return new DrainConsumer(BufferFixture.bootstrap(), group, topic, "it-drain-" + UUID.randomUUID(), config,
                handler, permit, StoreFailures::isUnavailable, registry).start();
    }

    @Test
    void aLaterRecordDoneFirstDoesNotMoveTheCommitPastAnUnfinishedOne() {
        String topic = BufferFixture.newTopic();
        String group = "it-contiguous-" + UUID.randomUUID();
        String key = "it:{drain}:" + UUID.randomUUID();
        for (long id = 1; id <= 5; id++) {
            kafka.publish(topic, 0, BufferFixture.single(id, "dev-" + id));
        }
        CompletableFuture<Void> secondMayFinish = new CompletableFuture<>();
        BufferHandler handler = p -> {
            CompletableFuture<?> written = record(key, p);
            return p.msgId() == 2 ? written.thenCombine(secondMayFinish, (a, b) -> null) : written;
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DrainConsumer c = drain(topic, group, config(100), handler, DrainPermit.UNLIMITED, registry)) {
            await().atMost(AWAIT).until(() -> registry.get("tern.bypass.drained").counter().count() == 4);
            assertEquals(Set.of(1L, 2L, 3L, 4L, 5L), handled(key), "all five were handled, 2 not yet completed");
            // Records 3..5 (offsets 2..4) are done, but offset 1 is not: the commit stays there, commit after commit.
            await().atMost(AWAIT).until(() -> kafka.committed(group, topic, 0) == 1);
            await().during(Duration.ofSeconds(1)).atMost(AWAIT).until(() -> kafka.committed(group, topic, 0) == 1);

            secondMayFinish.complete(null);
            await().atMost(AWAIT).until(() -> kafka.committed(group, topic, 0) == 5);
            assertEquals(5.0, registry.get("tern.bypass.drained").counter().count());
        }
    }

    @Test
    void anUnreadableRecordIsDeadLetteredCountedAndItsPartitionKeepsMoving() {
        String topic = BufferFixture.newTopic();
        String group = "it-dlq-" + UUID.randomUUID();
        String key = "it:{drain}:" + UUID.randomUUID();
        kafka.publish(topic, 0, BufferFixture.single(1, "dev-1"));
        kafka.send(topic, 0, "garbage", "{not a buffered push".getBytes(StandardCharsets.UTF_8));
        kafka.publish(topic, 0, BufferFixture.single(3, "dev-3"));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DrainConsumer c = drain(topic, group, config(100), p -> record(key, p), DrainPermit.UNLIMITED,
                registry)) {
            await().atMost(AWAIT).until(() -> handled(key).equals(Set.of(1L, 3L)));
            await().atMost(AWAIT).until(() -> kafka.committed(group, topic, 0) == 3);
            assertEquals(1.0, registry.get("tern.bypass.dead.lettered").counter().count());

            kafka.publish(topic, 0, BufferFixture.single(4, "dev-4"));
            await().atMost(AWAIT).until(() -> handled(key).contains(4L));
            await().atMost(AWAIT).until(() -> kafka.committed(group, topic, 0) == 4);
            assertTrue(c.consuming());
        }
        List<ConsumerRecord<String, byte[]>> dead = BufferFixture.readAll(Topics.deadLetter(topic), 1);
        assertEquals(1, dead.size());
        assertEquals("{not a buffered push", new String(dead.get(0).value(), StandardCharsets.UTF_8));
        assertEquals(topic + "-0@1",
                new String(dead.get(0).headers().lastHeader(DeadLetters.SOURCE_HEADER).value(), StandardCharsets.UTF_8));
        assertTrue(new String(dead.get(0).headers().lastHeader(DeadLetters.ERROR_HEADER).value(), StandardCharsets.UTF_8)
                .contains("unreadable buffer record"));
    }

    @Test
    void theDrainRateFollowsThePermit() {
        String topic = BufferFixture.newTopic();
        String group = "it-paced-" + UUID.randomUUID();
        String key = "it:{drain}:" + UUID.randomUUID();
        int records = 200;
        LongStream.rangeClosed(1, records).forEach(id -> kafka.publish(topic, null, BufferFixture.single(id, "dev-" + id)));
        ConcurrentLinkedQueue<Long> handledAtNanos = new ConcurrentLinkedQueue<>();
        BufferHandler handler = p -> {
            handledAtNanos.add(System.nanoTime());
            return record(key, p);
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // The pipeline's gate with no controller running: its fallback rate, 50 deliveries/s, holding a second's
        // worth. 200 records need at least (200 - 50) / 50 = 3 s from the first.
        PermitConfig fiftyPerSecond = new PermitConfig(Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofSeconds(1), 50);
        try (PermitGate gate = PermitGate.start(redis, fiftyPerSecond, Duration.ofSeconds(5),
                "bypass it-" + UUID.randomUUID(), System::currentTimeMillis, registry);
             DrainConsumer c = drain(topic, group, config(1000), handler, gate::acquire, registry)) {
            await().atMost(AWAIT).until(() -> handled(key).size() == records);
            List<Long> at = handledAtNanos.stream().sorted().toList();
            assertEquals(records, at.size(), "each record handled once");
            double seconds = (at.get(at.size() - 1) - at.get(0)) / 1e9;
            LoggerFactory.getLogger(DrainConsumerIT.class).info("{} records at a permit of 50/s: first to last {} s",
                    records, String.format("%.2f", seconds));
            assertTrue(seconds >= 2.5, records + " records at 50/s took only " + seconds + " s");
            assertTrue(registry.get("tern.bypass.permit.waits").counter().count() > 0, "records waited for the permit");
        }
    }

    @Test
    void aFullWindowPausesThePartitionUntilRecordsComplete() {
        String topic = BufferFixture.newTopic();
        String group = "it-window-" + UUID.randomUUID();
        for (long id = 1; id <= 10; id++) {
            kafka.publish(topic, 0, BufferFixture.single(id, "dev-" + id));
        }
        ConcurrentLinkedQueue<CompletableFuture<Void>> held = new ConcurrentLinkedQueue<>();
        BufferHandler handler = p -> {
            CompletableFuture<Void> f = new CompletableFuture<>();
            held.add(f);
            return f;
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // A window of 3 and polls of 1: three records are handed out, then the partition waits.
        DrainConfig small = new DrainConfig(3, 1000, 1, Duration.ofMillis(50), 3, Duration.ofMillis(20),
                Duration.ofMillis(500), Duration.ofSeconds(6), Duration.ofSeconds(30));
        try (DrainConsumer c = drain(topic, group, small, handler, DrainPermit.UNLIMITED, registry)) {
            await().atMost(AWAIT).until(() -> held.size() == 3);
            await().during(Duration.ofSeconds(1)).atMost(AWAIT).until(() -> held.size() == 3);
            while (registry.get("tern.bypass.drained").counter().count() < 10) {
                CompletableFuture<Void> f = held.poll();
                if (f != null) {
                    f.complete(null);
                }
                await().atMost(AWAIT).until(() -> !held.isEmpty()
                        || registry.get("tern.bypass.drained").counter().count() == 10);
            }
            await().atMost(AWAIT).until(() -> kafka.committed(group, topic, 0) == 10);
        }
    }
    @Test
    void aRebalanceCommitsWhatIsContiguousOnRevokeAndKeepsTheRetainedPartitionsPaused() {
        String topic = BufferFixture.newTopic();
        String group = "it-rebalance-" + UUID.randomUUID();
        String counts = "it:{drain}:" + UUID.randomUUID();
        int partitions = 4;
        int perPartition = 5;
        // msgId = partition * 100 + index within the partition
        for (int p = 0; p < partitions; p++) {
            for (int i = 0; i < perPartition; i++) {
                kafka.publish(topic, p, BufferFixture.single(p * 100L + i + 1, "dev-" + p));
            }
        }
        CompletableFuture<Void> release = new CompletableFuture<>();
        // First member: the third record of each partition (index 2) does not finish until released; a window of 2
        // then pauses every partition with index 4 unread. It commits only on revoke and close.
        BufferHandler first = p -> {
            CompletableFuture<?> counted = redis.async().hincrby(counts, Long.toString(p.msgId()), 1).toCompletableFuture();
            return (p.msgId() - 1) % 100 == 2 ? counted.thenCombine(release, (a, b) -> null) : counted;
        };
        BufferHandler second = p -> redis.async().hincrby(counts, Long.toString(p.msgId()), 1).toCompletableFuture();
        DrainConfig windowOfTwo = new DrainConfig(2, 1000, 1, Duration.ofMinutes(5), 3, Duration.ofMillis(20),
                Duration.ofMillis(500), Duration.ofSeconds(6), Duration.ofSeconds(30));
        try (DrainConsumer a = drain(topic, group, windowOfTwo, first, DrainPermit.UNLIMITED, new SimpleMeterRegistry())) {
            // Indexes 0..3 of every partition handled; 2 held, so each window is full.
            await().atMost(AWAIT).until(() -> handleCounts(counts).size() == partitions * 4);
            try (DrainConsumer b = drain(topic, group, config(100), second, DrainPermit.UNLIMITED,
                    new SimpleMeterRegistry())) {
                // The partitions that moved to b are read by b from a's commit on revoke (index 2) to the end.
                await().atMost(AWAIT).until(() -> movedPartitions(counts, partitions, perPartition).size() == partitions / 2);
                Set<Integer> moved = movedPartitions(counts, partitions, perPartition);
                Map<String, String> seen = redis.async().hgetall(counts).toCompletableFuture().join();
                for (int p = 0; p < partitions; p++) {
                    for (int i = 0; i < 2; i++) {
                        assertEquals("1", seen.get(Long.toString(p * 100L + i + 1)),
                                "index " + i + " of partition " + p + " was committed (on revoke, for moved ones) and "
                                        + "not handled again");
                    }
                }
                for (int p : moved) {
                    int partition = p;
                    await().atMost(AWAIT).until(() -> kafka.committed(group, topic, partition) == perPartition);
                }
                // The partitions a kept stay paused across the rebalance: index 4 is not read while 2 is unfinished.
                await().during(Duration.ofSeconds(1)).atMost(AWAIT).until(() -> {
                    Map<String, String> now = redis.async().hgetall(counts).toCompletableFuture().join();
                    for (int p = 0; p < partitions; p++) {
                        if (!moved.contains(p) && now.containsKey(Long.toString(p * 100L + 5))) {
                            return false;
                        }
                    }
                    return true;
                });
                release.complete(null);
                for (int p = 0; p < partitions; p++) {
                    long msgId = p * 100L + 5;
                    await().atMost(AWAIT).until(() -> handleCounts(counts).containsKey(Long.toString(msgId)));
                }
            }
        }
        for (int p = 0; p < partitions; p++) {
            assertEquals(perPartition, kafka.committed(group, topic, p), "partition " + p + " committed to its end");
        }
    }

    @Test
    void aRecordFailingEveryAttemptIsDeadLetteredWhileATransientFailureIsRetriedUntilItWorks() {
        String topic = BufferFixture.newTopic();
        String group = "it-retry-" + UUID.randomUUID();
        String key = "it:{drain}:" + UUID.randomUUID();
        kafka.publish(topic, 0, BufferFixture.single(1, "dev-1"));
        kafka.publish(topic, 0, BufferFixture.single(2, "dev-2"));
        kafka.publish(topic, 1, BufferFixture.single(3, "dev-3"));
        java.util.concurrent.atomic.AtomicInteger attemptsOfTwo = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger attemptsOfThree = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean storeDown = new java.util.concurrent.atomic.AtomicBoolean(true);
        BufferHandler handler = p -> {
            if (p.msgId() == 2) {
                attemptsOfTwo.incrementAndGet();
                return CompletableFuture.failedFuture(new IllegalArgumentException("cannot deliver 2"));
            }
            if (p.msgId() == 3) {
                attemptsOfThree.incrementAndGet();
                if (storeDown.get()) {
                    return CompletableFuture.failedFuture(new io.lettuce.core.RedisConnectionException("down"));
                }
            }
            return record(key, p);
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DrainConsumer c = drain(topic, group, config(100), handler, DrainPermit.UNLIMITED, registry)) {
            await().atMost(AWAIT).until(() -> kafka.committed(group, topic, 0) == 2);
            assertEquals(3, attemptsOfTwo.get(), "retry-attempts handlings, then the dead-letter topic");
            assertEquals(1.0, registry.get("tern.bypass.dead.lettered").counter().count());
            // The store is down for 3: retried past retry-attempts, never dead-lettered, its partition held.
            await().atMost(AWAIT).until(() -> attemptsOfThree.get() > 5);
            assertTrue(kafka.committed(group, topic, 1) <= 0, "nothing committed past the record being retried");
            storeDown.set(false);
            await().atMost(AWAIT).until(() -> kafka.committed(group, topic, 1) == 1);
            assertEquals(Set.of(1L, 3L), handled(key));
            assertEquals(1.0, registry.get("tern.bypass.dead.lettered").counter().count());
        }
        List<ConsumerRecord<String, byte[]>> dead = BufferFixture.readAll(Topics.deadLetter(topic), 1);
        assertEquals(topic + "-0@1",
                new String(dead.get(0).headers().lastHeader(DeadLetters.SOURCE_HEADER).value(), StandardCharsets.UTF_8));
        assertTrue(new String(dead.get(0).headers().lastHeader(DeadLetters.ERROR_HEADER).value(), StandardCharsets.UTF_8)
                .contains("cannot deliver 2"));
    }

    private static Map<String, String> handleCounts(String key) {
        return redis.async().hgetall(key).toCompletableFuture().join();
    }

    /** Partitions whose last record (index 4) was handled while a still held index 2: those b took over. */
    private static Set<Integer> movedPartitions(String key, int partitions, int perPartition) {
        Map<String, String> now = handleCounts(key);
        Set<Integer> moved = new java.util.TreeSet<>();
        for (int p = 0; p < partitions; p++) {
            if (now.containsKey(Long.toString(p * 100L + perPartition))) {
                moved.add(p);
            }
        }
        return moved;
    }
}
