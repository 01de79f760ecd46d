package io.tern.pipeline.kafka;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.KafkaBroker;
import io.tern.devstack.SharedInfra;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BatchConsumer on the real Kafka: dead letters, restarts with backoff, static membership and failover. */
class BatchConsumerIT {
    private static final Duration AWAIT = Duration.ofSeconds(60);
    private static final int PARTITIONS = 4;

    private static KafkaProducer<String, byte[]> producer;
    private static Admin admin;

    @BeforeAll
    static void start() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        admin = Admin.create(a);
    }

    @AfterAll
    static void stop() {
        producer.close();
        admin.close();
    }

    private static String bootstrap() {
        return SharedInfra.kafka().bootstrapServers();
    }

    private static String newTopic() {
        String topic = "it-batch-" + UUID.randomUUID();
        SharedInfra.kafka().createTopics(topic, Topics.deadLetter(topic));
        return topic;
    }

    private static ConsumerPolicy policy(Duration session) {
        return new ConsumerPolicy(session, 2, Duration.ofMillis(10), Duration.ofMillis(200), Duration.ofSeconds(1),
                Duration.ofSeconds(30));
    }

    /** One at a time, each acknowledged: a send that failed (a just-created topic's metadata) fails here, not later. */
    private static void publish(String topic, Integer partition, String... values) {
        for (String v : values) {
            try {
                producer.send(new ProducerRecord<>(topic, partition, v, v.getBytes(StandardCharsets.UTF_8)))
                        .get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("publishing " + v + " to " + topic + " failed", e);
            }
        }
    }

    private static String value(ConsumerRecord<String, byte[]> r) {
        return new String(r.value(), StandardCharsets.UTF_8);
    }

    /** Fails any batch that holds a record named "poison"; records everything else it applied. */
    private static Function<List<ConsumerRecord<String, byte[]>>, CompletableFuture<?>> failingOnPoison(
            List<String> applied) {
        return batch -> {
            if (batch.stream().anyMatch(r -> value(r).startsWith("poison"))) {
                return CompletableFuture.failedFuture(new IllegalArgumentException("cannot apply poison"));
            }
            batch.forEach(r -> applied.add(value(r)));
            return CompletableFuture.completedFuture(null);
        };
    }

    private static List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            await().atMost(AWAIT).until(() -> {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
                return out.size() >= expected;
            });
        }
        return out;
    }

    private static void awaitCommittedToEnd(String group, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        Map<TopicPartition, Long> ends;
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            ends = c.endOffsets(c.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList());
        }
        await().atMost(AWAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            return ends.entrySet().stream().allMatch(e -> e.getValue() == 0
                    || (committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() >= e.getValue()));
        });
    }

    @Test
    void aRecordThatFailsEveryAttemptIsDeadLetteredWhileTheRestOfItsBatchIsAppliedAndCommitted() {
        String topic = newTopic();
        String group = "it-dlq-" + UUID.randomUUID();
        publish(topic, 0, "ok-1", "ok-2", "poison-3", "ok-4", "ok-5");
        List<String> applied = new CopyOnWriteArrayList<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BatchConsumer c = new BatchConsumer(bootstrap(), group, "m1", topic, 100, Duration.ofSeconds(10),
                policy(Duration.ofSeconds(6)), failingOnPoison(applied), e -> false, registry, "it-dlq").start()) {
            await().atMost(AWAIT).until(() -> applied.containsAll(List.of("ok-1", "ok-2", "ok-4", "ok-5")));
            awaitCommittedToEnd(group, topic);
            // The partition is not blocked: what comes after is applied too.
            publish(topic, 0, "ok-6");
            await().atMost(AWAIT).until(() -> applied.contains("ok-6"));
            assertTrue(c.consuming());
            assertEquals(1.0, registry.get("tern.consumer.dead.lettered").counter().count());
        }
        List<ConsumerRecord<String, byte[]>> dead = readAll(Topics.deadLetter(topic), 1);
        assertEquals(List.of("poison-3"), dead.stream().map(BatchConsumerIT::value).toList());
        String source = new String(dead.get(0).headers().lastHeader("tern.source").value(), StandardCharsets.UTF_8);
        assertEquals(topic + "-0@2", source);
        assertFalse(applied.contains("poison-3"));
    }

    @Test
    void aTransientFailureBacksOffWithHealthDownThenAppliesEverythingAndDeadLettersNothing() {
        String topic = newTopic();
        String group = "it-transient-" + UUID.randomUUID();
        AtomicBoolean storeDown = new AtomicBoolean(true);
        List<String> applied = new CopyOnWriteArrayList<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Function<List<ConsumerRecord<String, byte[]>>, CompletableFuture<?>> handler = batch -> {
            if (storeDown.get()) {
                throw new IllegalStateException("store unreachable"); // thrown, not a failed future: same treatment
            }
            batch.forEach(r -> applied.add(value(r)));
            return CompletableFuture.completedFuture(null);
        };
        publish(topic, null, "a", "b", "c");
        try (BatchConsumer c = new BatchConsumer(bootstrap(), group, "m1", topic, 100, Duration.ofSeconds(10),
                policy(Duration.ofSeconds(6)), handler, e -> e instanceof IllegalStateException, registry,
                "it-transient").start()) {
            await().atMost(AWAIT).until(() -> c.state() == BatchConsumer.State.BACKING_OFF);
            assertFalse(c.consuming(), "/health is DOWN while backing off");
            await().atMost(AWAIT).until(() -> registry.get("tern.consumer.restarts").counter().count() >= 2);
            storeDown.set(false);
            await().atMost(AWAIT).until(() -> applied.containsAll(List.of("a", "b", "c")));
            awaitCommittedToEnd(group, topic);
            await().atMost(AWAIT).until(c::consuming);
            assertEquals(0.0, registry.get("tern.consumer.dead.lettered").counter().count());
        }
    }

    @Test
    void aCleanCloseLeavesTheGroupSoTheOtherMemberTakesOverAtOnce() {
        String topic = newTopic();
        String group = "it-leave-" + UUID.randomUUID();
        List<ConsumerRecord<String, byte[]>> seenBySurvivor = new CopyOnWriteArrayList<>();
        // A long session: only leaving the group can explain a fast takeover.
        ConsumerPolicy longSession = policy(Duration.ofSeconds(60));
        try (BatchConsumer survivor = new BatchConsumer(bootstrap(), group, "survivor", topic, 100,
                Duration.ofSeconds(10), longSession, BatchConsumer.eachRecord(r -> {
                    seenBySurvivor.add(r);
                    return CompletableFuture.completedFuture(null);
                }), e -> false, new SimpleMeterRegistry(), "it-survivor").start()) {
            BatchConsumer leaving = new BatchConsumer(bootstrap(), group, "leaving", topic, 100, Duration.ofSeconds(10),
                    longSession, BatchConsumer.eachRecord(r -> CompletableFuture.completedFuture(null)), e -> false,
                    new SimpleMeterRegistry(), "it-leaving").start();
            awaitMembersWithPartitions(group, 2);
            leaving.close();
            long t0 = System.nanoTime();
            publishToEveryPartition(topic, "after-leave");
            await().atMost(AWAIT).until(() -> partitionsSeen(seenBySurvivor, "after-leave").size() == PARTITIONS);
            System.out.printf("MEASURED clean close -> survivor consumes every partition: %.2f s%n",
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    @Test
    void aKilledMembersPartitionsMoveToTheSurvivorAfterTheSessionTimeout() throws Exception {
        Duration session = Duration.ofMillis(Long.getLong("tern.it.session-ms", 1500));
        String topic = newTopic();
        String group = "it-kill-" + UUID.randomUUID();
        List<ConsumerRecord<String, byte[]>> seenBySurvivor = new CopyOnWriteArrayList<>();
        Process child = child(group, "doomed", topic, session, new CopyOnWriteArrayList<>());
        try (BatchConsumer survivor = new BatchConsumer(bootstrap(), group, "survivor", topic, 100,
                Duration.ofSeconds(10), policy(session), BatchConsumer.eachRecord(r -> {
                    seenBySurvivor.add(r);
                    return CompletableFuture.completedFuture(null);
                }), e -> false, new SimpleMeterRegistry(), "it-survivor").start()) {
            awaitMembersWithPartitions(group, 2);
            child.destroyForcibly(); // SIGKILL: no leave, no last heartbeat
            child.waitFor();
            long t0 = System.nanoTime();
            publishToEveryPartition(topic, "after-kill");
            await().atMost(AWAIT).until(() -> partitionsSeen(seenBySurvivor, "after-kill").size() == PARTITIONS);
            System.out.printf("MEASURED SIGKILL -> survivor consumes every partition: %.2f s (session timeout %d ms)%n",
                    (System.nanoTime() - t0) / 1e9, session.toMillis());
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aRestartedMemberTakesItsPartitionsBackWithoutWaitingForItsSession() throws Exception {
        String topic = newTopic();
        String group = "it-static-" + UUID.randomUUID();
        Duration session = Duration.ofSeconds(60); // far longer than the test: no rebalance may explain the result
        List<ConsumerRecord<String, byte[]>> seenBySurvivor = new CopyOnWriteArrayList<>();
        Process first = child(group, "restarting", topic, session, new CopyOnWriteArrayList<>());
        Process second = null;
        try (BatchConsumer survivor = new BatchConsumer(bootstrap(), group, "survivor", topic, 100,
                Duration.ofSeconds(10), policy(session), BatchConsumer.eachRecord(r -> {
                    seenBySurvivor.add(r);
                    return CompletableFuture.completedFuture(null);
                }), e -> false, new SimpleMeterRegistry(), "it-survivor").start()) {
            Map<String, Set<Integer>> before = awaitMembersWithPartitions(group, 2);
            Set<Integer> restartersPartitions = before.get("restarting");
            first.destroyForcibly();
            first.waitFor();
            long t0 = System.nanoTime();
            List<String> gotByRestarted = new CopyOnWriteArrayList<>();
            second = child(group, "restarting", topic, session, gotByRestarted);
            publishToEveryPartition(topic, "after-restart");
            await().atMost(AWAIT).until(() -> gotByRestarted.stream().filter(l -> l.endsWith("after-restart")).count()
                    == restartersPartitions.size());
            System.out.printf("MEASURED SIGKILL + restart with the same instance id -> it consumes again: %.2f s"
                    + " (session timeout %d s)%n", (System.nanoTime() - t0) / 1e9, session.toSeconds());
            Set<Integer> survivorGot = partitionsSeen(seenBySurvivor, "after-restart");
            assertTrue(survivorGot.stream().noneMatch(restartersPartitions::contains),
                    "no rebalance: the survivor never got the restarted member's partitions " + survivorGot);
        } finally {
            first.destroyForcibly();
            if (second != null) {
                second.destroyForcibly();
            }
        }
    }

    @Test
    void aConsumerResumesAfterKafkaIsStoppedAndStartedAgainAndLosesNothing() {
        try (KafkaBroker kafka = KafkaBroker.start(KafkaBroker.Options.defaults())) {
            String topic = "it-restart-" + UUID.randomUUID();
            kafka.createTopics(topic, Topics.deadLetter(topic));
            String group = "it-restart-" + UUID.randomUUID();
            List<String> applied = new CopyOnWriteArrayList<>();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            try (KafkaProducer<String, byte[]> own = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
                 BatchConsumer c = new BatchConsumer(kafka.bootstrapServers(), group, "m1", topic, 100,
                         Duration.ofSeconds(10), policy(Duration.ofSeconds(6)), BatchConsumer.eachRecord(r -> {
                             applied.add(value(r));
                             return CompletableFuture.completedFuture(null);
                         }), e -> false, registry, "it-kafka-restart").start()) {
                own.send(new ProducerRecord<>(topic, "before", "before".getBytes(StandardCharsets.UTF_8)));
                own.flush();
                await().atMost(AWAIT).until(() -> applied.contains("before"));

                kafka.stop();
                kafka.restart();
                long t0 = System.nanoTime();
                own.send(new ProducerRecord<>(topic, "after", "after".getBytes(StandardCharsets.UTF_8)));
                own.flush();
                await().atMost(AWAIT).until(() -> applied.contains("after"));
                System.out.printf("MEASURED Kafka restarted -> consumer applies a new record: %.2f s%n",
                        (System.nanoTime() - t0) / 1e9);
                await().atMost(AWAIT).until(c::consuming);
                assertEquals(0.0, registry.get("tern.consumer.dead.lettered").counter().count());
            }
        }
    }

    private static void publishToEveryPartition(String topic, String value) {
        for (int p = 0; p < PARTITIONS; p++) {
            publish(topic, p, value);
        }
    }

    private static Set<Integer> partitionsSeen(List<ConsumerRecord<String, byte[]>> seen, String value) {
        return seen.stream().filter(r -> value.equals(value(r))).map(ConsumerRecord::partition).collect(Collectors.toSet());
    }

    /** Waits until the group has {@code members} members, each holding partitions; returns instance id to partitions. */
    @SuppressWarnings("unchecked")
    private static Map<String, Set<Integer>> awaitMembersWithPartitions(String group, int members) {
        Map<String, Set<Integer>>[] out = new Map[1];
        // The group does not exist until its first member joined: describing it fails until then.
        await().atMost(AWAIT).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
            Map<String, Set<Integer>> m = d.members().stream().collect(Collectors.toMap(
                    md -> md.groupInstanceId().orElse(md.consumerId()),
                    md -> md.assignment().topicPartitions().stream().map(TopicPartition::partition)
                            .collect(Collectors.toSet())));
            out[0] = m;
            return m.size() == members && m.values().stream().noneMatch(Set::isEmpty)
                    && d.members().stream().map(MemberDescription::assignment).mapToInt(a -> a.topicPartitions().size())
                    .sum() == PARTITIONS;
        });
        return out[0];
    }

    /** Starts {@link ConsumerChild} in its own JVM; its GOT lines are added to {@code got}. */
    private static Process child(String group, String instance, String topic, Duration session, List<String> got)
            throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), ConsumerChild.class.getName(),
                bootstrap(), group, instance, topic, Long.toString(session.toMillis()))
                .redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                    if (line.startsWith("GOT ")) {
                        got.add(line);
                    }
                }
            } catch (Exception ignored) {
                // the child was killed
            }
        }, "child-" + instance);
        reader.setDaemon(true);
        reader.start();
        await().atMost(AWAIT).until(() -> lines.contains("STARTED") || !p.isAlive());
        assertTrue(p.isAlive(), () -> "child died: " + String.join("\n", lines));
        return p;
    }
}
