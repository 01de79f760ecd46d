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

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
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
}
