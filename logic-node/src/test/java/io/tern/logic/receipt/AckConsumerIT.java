package io.tern.logic.receipt;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.kafka.ConsumerPolicy;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.callback.ParkedReceipt;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.NewMessage;
import io.tern.store.message.QueuePolicy;
import io.tern.store.receipt.AckRepository;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
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

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The receipt consumer on the real Kafka ack topic, writing to a real Redis. */
class AckConsumerIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis() * 1000 + 500_000);

    private static RedisStore redis;
    private static TaskRepository tasks;
    private static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        tasks = new TaskRepository(redis, tasksPolicy());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    private static QueuePolicy tasksPolicy() {
        return new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24));
    }

    @AfterAll
    static void stop() {
        producer.close();
        redis.close();
    }

    private static long[] devices(int from, int to) {
        return java.util.stream.IntStream.range(from, to).mapToLong(i -> io.tern.store.topic.DeviceHash.of("d" + i)).toArray();
    }

    private static long broadcastTask(String app, String callbackUrl) {
        long id = IDS.incrementAndGet();
        long now = System.currentTimeMillis();
        tasks.create(new TaskBody(id, app, PayloadKind.DATA, "{}", now, now + 3_600_000, callbackUrl,
                callbackUrl == null ? null : "p", 0), TaskState.SENDING).join();
        tasks.markBroadcast(id, 100_000, 7).join();
        return id;
    }

    private static void publish(AckRecord... records) {
        for (AckRecord r : records) {
            producer.send(new ProducerRecord<>(Topics.ACKS, r.key(), r.encode()));
        }
        producer.flush();
    }

    private static long delivered(long taskId) {
        return tasks.find(taskId).join().counter(TaskCounter.DELIVERED);
    }

    private static AckConsumer consumer(String group, List<ParkedReceipt> receipts) {
        return consumer(group, receipts, new AckRepository(redis, Duration.ofSeconds(30), 1_000_000, 100_000),
                ConsumerPolicy.defaults(), new SimpleMeterRegistry());
    }

    private static AckConsumer consumer(String group, List<ParkedReceipt> receipts, AckRepository acks,
                                        ConsumerPolicy policy, MeterRegistry registry) {
        return new AckConsumer(SharedInfra.kafka().bootstrapServers(), group, "it-" + group, 500, 3, policy, acks,
                receipts::addAll, System::currentTimeMillis, registry, "it-" + group).start();
    }

    /** Waits until {@code group} has committed everything on the ack topic up to now. */
    private static void awaitCaughtUp(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
        Map<TopicPartition, Long> ends;
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            ends = c.endOffsets(c.partitionsFor(Topics.ACKS).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList());
        }
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
        try (Admin admin = Admin.create(a)) {
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                return ends.entrySet().stream().allMatch(e -> e.getValue() == 0
                        || (committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() >= e.getValue()));
            });
        }
    }

    @Test
    void countRecordsAddToTheDeliveredCounterWithoutReceiptsAndAReplayAddsNothing() {
        String app = "app-" + UUID.randomUUID();
        long task = broadcastTask(app, null);
        long now = System.currentTimeMillis();
        publish(AckRecord.count(app, task, now, "b1", devices(0, 10)),
                AckRecord.count(app, task, now, "b2", devices(10, 15)),
                AckRecord.count(app, task, now, "b1", devices(15, 30)),
                AckRecord.count(app, task, now, "b1", devices(15, 30)), // resent by the broker
                AckRecord.count(app, task, now, "b2", devices(0, 5))); // acked again on another broker after a catch-up
        List<ParkedReceipt> receipts = new CopyOnWriteArrayList<>();
        String group = "it-acks-" + UUID.randomUUID();
        try (AckConsumer c = consumer(group, receipts)) {
            awaitCaughtUp(group);
            assertEquals(30, delivered(task));
        }
        // A consumer that lost its offsets reads every record again, as after a crash before its commit.
        String replay = "it-acks-replay-" + UUID.randomUUID();
        try (AckConsumer c = consumer(replay, receipts)) {
            awaitCaughtUp(replay);
        }
        assertEquals(30, delivered(task), "replayed counts add nothing");
        assertTrue(receipts.stream().noneMatch(r -> r.appId().equals(app)), "counts have no receipt to report");
    }

    @Test
    void deviceAcksOfABroadcastWithACallbackAreEachReportedInBatches() {
        String app = "app-" + UUID.randomUUID();
        long task = broadcastTask(app, "http://app.example/cb");
        long now = System.currentTimeMillis();
        int devices = 10; // more than one apply call of 3
        AckRecord[] acks = new AckRecord[devices];
        for (int i = 0; i < devices; i++) {
            acks[i] = new AckRecord(app, "d" + i, task, now, "b1");
        }
        publish(acks);
        List<ParkedReceipt> receipts = new CopyOnWriteArrayList<>();
        String group = "it-acks-" + UUID.randomUUID();
        try (AckConsumer c = consumer(group, receipts)) {
            awaitCaughtUp(group);
            await().atMost(AWAIT).until(() -> receipts.stream().filter(r -> r.appId().equals(app)).count() == devices);
        }
        assertEquals(devices, delivered(task));
        Map<String, Long> perDevice = receipts.stream().filter(r -> r.appId().equals(app))
                .collect(Collectors.groupingBy(ParkedReceipt::regId, Collectors.counting()));
        assertEquals(devices, perDevice.size());
        assertTrue(perDevice.values().stream().allMatch(n -> n == 1), "each device once: " + perDevice);
        assertTrue(receipts.stream().filter(r -> r.appId().equals(app))
                .allMatch(r -> "http://app.example/cb".equals(r.url()) && r.task() && r.targetId() == task));
    }

    @Test
    void aFullCallbackOutboxParksNoReceiptAndTheConsumerReadsTheAcksAgainOnceThereIsRoom() {
        redis.async().del(Keys.callbacksDue(), Keys.callbackItems()).toCompletableFuture().join();
        AckRepository twoReceipts = new AckRepository(redis, Duration.ofSeconds(30), 2, 100_000);
        String app = "app-" + UUID.randomUUID();
        long task = broadcastTask(app, "http://app.example/cb");
        // The outbox holds its maximum: two receipts no node posts.
        List<String> waiting = twoReceipts.applyAll(List.of(new AckRecord(app, "d0", task, 1, "b1"),
                new AckRecord(app, "d00", task, 1, "b1")), System.currentTimeMillis()).join().stream()
                .map(a -> a.parked().id()).toList();
        long now = System.currentTimeMillis();
        new RouteRepository(redis).put(app, "phone", new Route("b1", "e1"), now).join();
        long msg = IDS.incrementAndGet();
        new MessageRepository(redis, tasksPolicy()).accept(new NewMessage(msg, app, "phone", PayloadKind.DATA, "{}",
                now, now + 3_600_000, null, "http://app.example/cb", "m")).join();
        publish(new AckRecord(app, "phone", msg, now, "b1"), new AckRecord(app, "d1", task, now, "b1"));

        List<ParkedReceipt> receipts = new CopyOnWriteArrayList<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ConsumerPolicy quickBackoff = new ConsumerPolicy(ConsumerPolicy.DEFAULT_SESSION_TIMEOUT, 3, Duration.ofMillis(20),
                Duration.ofMillis(50), Duration.ofMillis(200), ConsumerPolicy.DEFAULT_UNASSIGNED_GRACE);
        String group = "it-acks-full-" + UUID.randomUUID();
        try (AckConsumer c = consumer(group, receipts, twoReceipts, quickBackoff, registry)) {
            // Read, refused, backed off, read again: applied once, its receipts owed, none parked meanwhile.
            await().atMost(AWAIT).until(() -> registry.get("tern.consumer.restarts").tag("consumer", Topics.ACKS)
                    .counter().count() >= 2);
            assertEquals(3, delivered(task), "counted once however often read");
            assertTrue(receipts.isEmpty(), receipts.toString());

            new CallbackOutbox(redis).remove(waiting).join(); // posted: room again
            await().atMost(AWAIT).until(() -> receipts.size() == 2);
            awaitCaughtUp(group);
        }
        assertEquals("delivered", redis.async().hget(Keys.message(app, "phone", msg), "status").toCompletableFuture().join());
        assertEquals(3, delivered(task));
        assertEquals(Set.of("phone", "d1"), receipts.stream().map(ParkedReceipt::regId).collect(Collectors.toSet()));
    }
}
