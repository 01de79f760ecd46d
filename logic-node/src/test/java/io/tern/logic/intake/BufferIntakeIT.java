package io.tern.logic.intake;

import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.config.LogicConfig;
import io.tern.pipeline.buffer.BufferCodec;
import io.tern.pipeline.buffer.BufferedPush;
import io.tern.runtime.config.Settings;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Intake beyond the permit, against real Redis and Kafka: the rate controller's directive (written here as an SRE
 * would) allows nothing, so every push goes to the burst buffer. No bypass consumer runs, so what is buffered
 * stays there for the test to read.
 */
class BufferIntakeIT {
    private static final String APP = "intake-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String KEY = "intake-key";
    private static final String SECRET = "intake-secret";
    private static RedisStore redis;
    private static LogicNode node;
    private static long version;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.BUFFER, Topics.BODIES);
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        node = LogicNode.start(config("intake-a", Map.of()));
        version = closeThePermit();
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (redis != null) {
            // Other tests in this JVM run without a controller (their fallback rate).
            redis.async().del(Keys.throttleDirective(), Keys.rateControllerAlive()).toCompletableFuture().join();
            redis.close();
        }
    }

    private static LogicConfig config(String id, Map<String, String> more) {
        Map<String, String> s = new HashMap<>(Map.of(
                "logic.id", id,
                "logic.port", "0",
                "logic.dev-mode", "true",
                "logic.redis-uri", SharedInfra.redis().uri(),
                "logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers(),
                "logic.permit.hold-last", "1h",
                "logic.apps." + APP + ".key", KEY,
                "logic.apps." + APP + ".secret", SECRET));
        s.putAll(more);
        return LogicConfig.from(Settings.of(s));
    }

    /** A permit of 0 with a live controller heartbeat: nothing passes directly. */
    private static long closeThePermit() {
        DirectiveRepository directives = new DirectiveRepository(redis);
        ThrottleDirective next = directives.load().join().next(ThrottleState.THROTTLED, 0, ThrottleDirective.BY_SRE,
                "intake test", System.currentTimeMillis());
        directives.heartbeat(System.currentTimeMillis(), Duration.ofHours(1).toMillis()).join();
        assertTrue(directives.replace(next, "sre", null).join());
        return next.version();
    }

    private static void awaitObeyed(IntakeClient c) {
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String health = c.send("GET", "/health", null).body();
            return health.contains("directive v" + version + " 0/s");
        });
    }

    private static String knownDevice() {
        String regId = "d-" + UUID.randomUUID();
        redis.async().set(Keys.device(APP, regId), "1").toCompletableFuture().join();
        return regId;
    }

    /** Reads {@code topic} from the start until a record matches. */
    private static ConsumerRecord<String, byte[]> findIn(String topic, Predicate<ConsumerRecord<String, byte[]>> match) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "intake-it-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        AtomicReference<ConsumerRecord<String, byte[]>> found = new AtomicReference<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (match.test(r)) {
                        found.set(r);
                    }
                }
                return found.get() != null;
            });
        }
        return found.get();
    }

    @Test
    void aSinglePushBeyondThePermitIsBufferedAnsweredQueuedAndReadsQueued() throws Exception {
        IntakeClient c = new IntakeClient(node).login(APP, KEY, SECRET);
        awaitObeyed(c);
        String regId = knownDevice();

        HttpResponse<String> r = c.pushSingle(regId, "req-" + UUID.randomUUID());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("queued", IntakeClient.field(r.body(), "status"));
        String msgId = IntakeClient.field(r.body(), "msgId");

        HttpResponse<String> status = c.send("GET", "/v1/messages/" + msgId, null);
        assertEquals(200, status.statusCode(), status.body());
        assertEquals("queued", IntakeClient.field(status.body(), "status"));
        assertEquals(0L, redis.async().zcard(Keys.queue(APP, regId)).toCompletableFuture().join(),
                "not in the device queue: a reconnect must not deliver it ahead of the permit");

        ConsumerRecord<String, byte[]> record = findIn(Topics.BUFFER, rec -> rec.key().equals(regId));
        BufferedPush p = BufferCodec.decode(record.value());
        assertEquals(BufferedPush.Kind.SINGLE, p.kind());
        assertEquals(Long.parseLong(msgId), p.msgId());
        assertEquals(APP, p.appId());
        assertEquals("{\"n\":1}", p.payload());
        assertEquals(1, p.deliveries());

        // A figure, not a bound: what a buffered push costs the caller (Kafka acks=all, then the Redis record).
        long t0 = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            assertEquals(200, c.pushSingle(regId, null).statusCode());
        }
        System.out.printf("100 sequential buffered pushes: %.1f ms each%n", (System.nanoTime() - t0) / 1e6 / 100);
    }

    @Test
    void aListPushBeyondThePermitQueuesItsTaskWhoseBodyIsAlsoInTheBodiesTopic() throws Exception {
        IntakeClient c = new IntakeClient(node).login(APP, KEY, SECRET);
        awaitObeyed(c);
        HttpResponse<String> created = c.send("POST", "/v1/push/payload", "{\"data\":{\"t\":1}}");
        assertEquals(200, created.statusCode(), created.body());
        String taskId = IntakeClient.field(created.body(), "taskId");
        List<String> regIds = new ArrayList<>(List.of(knownDevice(), knownDevice(), knownDevice()));

        HttpResponse<String> r = c.send("POST", "/v1/push/list", "{\"taskId\":\"" + taskId + "\",\"regIds\":[\""
                + String.join("\",\"", regIds) + "\"]}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("queued", IntakeClient.field(r.body(), "state"));
        HttpResponse<String> status = c.send("GET", "/v1/tasks/" + taskId, null);
        assertEquals("queued", IntakeClient.field(status.body(), "state"), status.body());

        BufferedPush p = BufferCodec.decode(findIn(Topics.BUFFER, rec -> rec.key().equals(taskId)).value());
        assertEquals(BufferedPush.Kind.TASK, p.kind());
        assertEquals(3, p.deliveries(), "a list push costs its list's size");
        assertTrue(p.targetJson().contains(regIds.get(2)), p.targetJson());

        String body = new String(findIn(Topics.BODIES, rec -> rec.key().equals(taskId)).value());
        assertTrue(body.contains("\"payload\":\"{\\\"t\\\":1}\""), body);
    }

    @Test
    void aTagPushBeyondThePermitCostsItsEstimatedAudience() throws Exception {
        IntakeClient c = new IntakeClient(node).login(APP, KEY, SECRET);
        awaitObeyed(c);
        String small = "small-" + UUID.randomUUID().toString().substring(0, 8);
        String large = "large-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> devices = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            devices.add(knownDevice());
        }
        tag(c, small, devices.subList(0, 2));
        tag(c, large, devices);

        String both = queuedTagPush(c, "{\"all\":[\"" + small + "\",\"" + large + "\"]}");
        assertEquals(2, BufferCodec.decode(findIn(Topics.BUFFER, rec -> rec.key().equals(both)).value()).deliveries(),
                "all of several tags: at most its smallest tag");
        String either = queuedTagPush(c, "{\"any\":[\"" + small + "\",\"" + large + "\"]}");
        assertEquals(7, BufferCodec.decode(findIn(Topics.BUFFER, rec -> rec.key().equals(either)).value()).deliveries(),
                "any of several tags: at most their sum");
    }

    private static void tag(IntakeClient c, String tag, List<String> regIds) throws Exception {
        HttpResponse<String> r = c.send("POST", "/v1/tags/" + tag + "/devices", "{\"add\":[\""
                + String.join("\",\"", regIds) + "\"]}");
        assertEquals(200, r.statusCode(), r.body());
    }

    /** A tag push answered queued; returns its taskId. */
    private static String queuedTagPush(IntakeClient c, String tags) throws Exception {
        String taskId = IntakeClient.field(c.send("POST", "/v1/push/payload", "{\"data\":{\"t\":2}}").body(), "taskId");
        HttpResponse<String> r = c.send("POST", "/v1/push/tag", "{\"taskId\":\"" + taskId + "\",\"tags\":" + tags + "}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("queued", IntakeClient.field(r.body(), "state"));
        return taskId;
    }

    @Test
    void aScheduledPushThatFiresBeyondThePermitIsBufferedToo() throws Exception {
        IntakeClient c = new IntakeClient(node).login(APP, KEY, SECRET);
        awaitObeyed(c);
        String regId = knownDevice();
        long sendAt = System.currentTimeMillis() + 2_000;
        String taskId = IntakeClient.field(c.send("POST", "/v1/push/payload", "{\"data\":{\"t\":3},\"sendAt\":"
                + sendAt + "}").body(), "taskId");
        HttpResponse<String> r = c.send("POST", "/v1/push/list", "{\"taskId\":\"" + taskId + "\",\"regIds\":[\""
                + regId + "\"]}");
        assertEquals("scheduled", IntakeClient.field(r.body(), "state"), r.body());

        await().atMost(Duration.ofSeconds(60)).until(() -> "queued".equals(IntakeClient.field(
                c.send("GET", "/v1/tasks/" + taskId, null).body(), "state")));
        BufferedPush p = BufferCodec.decode(findIn(Topics.BUFFER, rec -> rec.key().equals(taskId)).value());
        assertTrue(p.targetJson().contains(regId), p.targetJson());
    }

    @Test
    void beyondThePermitWithTheBacklogOverItsBoundThePushIsRefused429BufferFull() throws Exception {
        // Started here only: a second node would also fire the other tests' scheduled pushes, and its small bound
        // refuses them (five refused firings and the task is given up).
        // The shared buffer already holds more than one undrained record once any test here ran.
        try (LogicNode smallBuffer = LogicNode.start(config("intake-b", Map.of("logic.buffer.max-backlog", "1",
                "logic.buffer.retry-after", "3s")))) {
            refusedBufferFull(new IntakeClient(smallBuffer).login(APP, KEY, SECRET));
        }
    }

    private static void refusedBufferFull(IntakeClient c) throws Exception {
        awaitObeyed(c);
        String regId = knownDevice();
        AtomicReference<HttpResponse<String>> refused = new AtomicReference<>();
        // Each push adds to the backlog until the node's next backlog read sees it over 1.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            HttpResponse<String> r = c.pushSingle(regId, null);
            if (r.statusCode() == 429) {
                refused.set(r);
                return true;
            }
            assertEquals(200, r.statusCode(), r.body());
            return false;
        });
        assertTrue(refused.get().body().contains("\"code\":\"buffer_full\""), refused.get().body());
        assertEquals("3", refused.get().headers().firstValue("Retry-After").orElse(null));
    }
}
