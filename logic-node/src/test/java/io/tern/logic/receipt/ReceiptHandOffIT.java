package io.tern.logic.receipt;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.SharedInfra;
import io.tern.logic.callback.CallbackConfig;
import io.tern.logic.callback.CallbackDispatcher;
import io.tern.logic.callback.CallbackUrlGuard;
import io.tern.pipeline.kafka.ConsumerPolicy;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.http.HttpServer;
import io.tern.store.Keys;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.message.QueuePolicy;
import io.tern.store.receipt.AckRepository;
import io.tern.store.redis.RedisStore;
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
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The receipt pipeline (real Kafka ack topic, real Redis, WireMock as the app server) commits acks whose callbacks
 * are not posted yet, yet loses none when its node stops mid-stream: the next node posts them from the outbox.
 */
class ReceiptHandOffIT {
    private static final Duration AWAIT = Duration.ofSeconds(60);
    private static final String APP = "handoff-app";
    private static final String SECRET = "handoff-app-secret";

    private record Node(AckConsumer acks, CallbackDispatcher callbacks, CallbackUrlGuard guard) implements AutoCloseable {
        @Override
        public void close() {
            acks.close(); // as LogicNode.close: the consumer first, then the callbacks it fed
            callbacks.close();
            guard.close();
        }
    }

    private static Node node(RedisStore redis, TaskRepository tasks, String group, String instance, int port) {
        CallbackConfig c = new CallbackConfig(100, Duration.ofMillis(50), 50, Duration.ofMillis(50),
                Duration.ofMillis(200), Duration.ofSeconds(2), 10_000, 2,
                CallbackConfig.Targets.allowing("127.0.0.1:" + port),
                new CallbackConfig.Outbox(Duration.ofSeconds(30), Duration.ofMillis(100), 100_000));
        CallbackUrlGuard guard = new CallbackUrlGuard(c.targets(), instance);
        CallbackDispatcher callbacks = new CallbackDispatcher(c, appId -> APP.equals(appId) ? SECRET : null, tasks,
                new CallbackOutbox(redis), guard, System::currentTimeMillis, new SimpleMeterRegistry(), instance);
        AckConsumer acks = new AckConsumer(SharedInfra.kafka().bootstrapServers(), group, instance, 500, 100,
                ConsumerPolicy.defaults(), new AckRepository(redis, c.outbox().lease(), c.outbox().max(), 100_000), callbacks, System::currentTimeMillis,
                new SimpleMeterRegistry(), instance).start();
        return new Node(acks, callbacks, guard);
    }

    @Test
    void callbacksOfCommittedAcksSurviveTheirNodeStoppingWhileTheAppServerFails() throws Exception {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        WireMockServer app = new WireMockServer(options().dynamicPort());
        app.start();
        try (RedisStore redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2))) {
            redis.async().del(Keys.callbacksDue(), Keys.callbackItems()).toCompletableFuture().join();
            TaskRepository tasks = new TaskRepository(redis,
                    new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
            app.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(503)));
            String url = "http://127.0.0.1:" + app.port() + "/cb";
            long task = System.currentTimeMillis() * 1000 + 777;
            long now = System.currentTimeMillis();
            tasks.create(new TaskBody(task, APP, PayloadKind.DATA, "{}", now, now + 3_600_000, url, "p", 0),
                    TaskState.SENDING).join();
            tasks.markBroadcast(task, 100_000, 7).join();
            int devices = 200;
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < devices; i++) {
                    AckRecord ack = new AckRecord(APP, "dev-" + i, task, now + i, "b1");
                    producer.send(new ProducerRecord<>(Topics.ACKS, ack.key(), ack.encode()));
                }
            }
            String group = "it-handoff-" + UUID.randomUUID();
            Node first = node(redis, tasks, group, "first", app.port());
            try {
                // Every ack applied and committed while not one callback was accepted.
                awaitCommittedToEnd(group);
                await().atMost(AWAIT).until(() -> app.getAllServeEvents().size() >= 2);
                assertEquals(0, tasks.find(task).join().counters().getOrDefault(TaskCounter.CALLBACK_SENT, 0L));
            } finally {
                first.close();
            }
            app.resetAll();
            app.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(200)));
            try (Node next = node(redis, tasks, group, "next", app.port())) {
                await().atMost(AWAIT).until(() -> accepted(app).size() == devices);
                await().atMost(AWAIT).until(() -> tasks.find(task).join().counters()
                        .getOrDefault(TaskCounter.CALLBACK_SENT, 0L) == devices);
                await().atMost(AWAIT).until(() -> new CallbackOutbox(redis).size().join() == 0);
            }
            int posts = app.getAllServeEvents().size();
            // Every ack read again (a group that lost its offsets): applied already, so nothing parked to post again.
            String replay = "it-handoff-replay-" + UUID.randomUUID();
            try (Node again = node(redis, tasks, replay, "again", app.port())) {
                awaitCommittedToEnd(replay);
                // A receipt leaves the outbox only once posted: empty and no new POST means none was parked.
                assertEquals(0L, new CallbackOutbox(redis).size().join());
                assertEquals(posts, app.getAllServeEvents().size(), "no callback posted twice");
            }
            assertEquals(devices, tasks.find(task).join().counter(TaskCounter.DELIVERED));
        } finally {
            app.stop();
        }
    }

    private static Set<String> accepted(WireMockServer app) throws Exception {
        Set<String> out = new HashSet<>();
        for (ServeEvent e : app.getAllServeEvents()) {
            if (e.getResponse().getStatus() / 100 != 2) {
                continue;
            }
            JsonNode root = HttpServer.JSON.readTree(e.getRequest().getBody());
            for (JsonNode r : root.get("receipts")) {
                out.add(r.get("regId").asText());
            }
        }
        return out;
    }

    private static void awaitCommittedToEnd(String group) {
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
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                return ends.entrySet().stream().allMatch(e -> e.getValue() == 0
                        || (committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() >= e.getValue()));
            });
        }
    }
}
