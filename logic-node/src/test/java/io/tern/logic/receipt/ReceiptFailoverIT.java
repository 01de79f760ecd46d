package io.tern.logic.receipt;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.LogicNodeMain;
import io.tern.logic.config.LogicConfig;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.store.Keys;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Collectors;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two logic nodes share the receipt group; one runs as its own OS process and is SIGKILLed. The acks on its
 * partitions are applied by the surviving node within seconds (the session timeout), not after a long wait.
 */
class ReceiptFailoverIT {
    private static final Duration AWAIT = Duration.ofSeconds(60);

    private static Map<String, String> settings(String id, String group) {
        Map<String, String> m = new HashMap<>();
        m.put("logic.id", id);
        m.put("logic.port", "0");
        m.put("logic.dev-mode", "true");
        m.put("logic.redis-uri", SharedInfra.redis().uri());
        m.put("logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers());
        m.put("logic.receipt-group", group);
        m.put("logic.job-group", group + "-jobs");
        m.put("logic.consumer.session-timeout", System.getProperty("tern.it.session-ms", "1500") + "ms");
        return m;
    }

    @Test
    void acksOfAKilledNodesPartitionsAreAppliedByTheSurvivorWithinSeconds() throws Exception {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        String group = "it-failover-" + UUID.randomUUID();
        Path dir = Files.createTempDirectory("tern-failover-");
        Path config = dir.resolve("doomed.properties");
        Properties p = new Properties();
        p.putAll(settings("doomed", group));
        try (var out = Files.newBufferedWriter(config)) {
            p.store(out, "ReceiptFailoverIT child node");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        Process doomed = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LogicNodeMain.class.getName(), config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("doomed.log").toFile()).start();
        try (RedisStore redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
             LogicNode survivor = LogicNode.start(LogicConfig.from(Settings.of(settings("survivor", group))));
             Admin admin = admin()) {
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> holders(admin, group).keySet().containsAll(List.of("doomed", "survivor")));
            int doomedPartitions = holders(admin, group).get("doomed");
            TaskRepository tasks = new TaskRepository(redis,
                    new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
            String app = "failover-" + UUID.randomUUID();
            long task = System.currentTimeMillis() * 1000 + 4242;
            long now = System.currentTimeMillis();
            tasks.create(new TaskBody(task, app, PayloadKind.DATA, "{}", now, now + 3_600_000, null, null, 0),
                    TaskState.SENDING).join();
            tasks.markBroadcast(task, 100_000, 7).join();

            doomed.destroyForcibly(); // SIGKILL: no leave, no last heartbeat, no offsets committed from now on
            doomed.waitFor();
            long t0 = System.nanoTime();
            int devices = 64; // regIds spread over every partition, the dead node's included
            publishAcks(app, task, devices);
            long[] firstSeen = {0};
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
                long delivered = tasks.find(task).join().counter(TaskCounter.DELIVERED);
                if (delivered > 0 && firstSeen[0] == 0) {
                    firstSeen[0] = System.nanoTime();
                }
                return delivered == devices;
            });
            long all = System.nanoTime();
            System.out.printf("MEASURED logic node SIGKILL -> first receipt applied by the survivor %.2f s, all %d"
                            + " (incl. the dead node's %d partitions) %.2f s; session timeout %s ms%n",
                    (firstSeen[0] - t0) / 1e9, devices, doomedPartitions, (all - t0) / 1e9,
                    System.getProperty("tern.it.session-ms", "1500"));
            assertTrue(survivor.receiptsReady());
        } finally {
            doomed.destroyForcibly();
            deleteQuietly(dir);
        }
    }

    /** The child's config and log. */
    private static void deleteQuietly(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a temp dir: the OS cleans it eventually
        }
    }

    @Test
    void callbacksInFlightOnAKilledNodeAreAllPostedByTheNextNode() throws Exception {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        WireMockServer appServer = new WireMockServer(options().dynamicPort());
        appServer.start();
        String group = "it-killcb-" + UUID.randomUUID();
        Path dir = Files.createTempDirectory("tern-killcb-");
        Process doomed = null;
        try (RedisStore redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
             Admin admin = admin()) {
            redis.async().del(Keys.callbacksDue(), Keys.callbackItems()).toCompletableFuture().join();
            appServer.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(503)));
            String url = "http://127.0.0.1:" + appServer.port() + "/cb";
            String app = "killcb-" + UUID.randomUUID().toString().substring(0, 8);
            Map<String, String> callbacks = Map.of(
                    "logic.apps." + app + ".key", "key-" + app,
                    "logic.apps." + app + ".secret", "secret-of-" + app,
                    "logic.callback.allow", "127.0.0.1:" + appServer.port(),
                    "logic.callback.lease", "2s",
                    "logic.callback.sweep-interval", "100ms",
                    "logic.callback.max-attempts", "50",
                    "logic.callback.backoff-max", "300ms",
                    "logic.callback.request-timeout", "1s");
            Properties p = new Properties();
            p.putAll(settings("doomed-cb", group));
            p.putAll(callbacks);
            Path config = dir.resolve("doomed.properties");
            try (var out = Files.newBufferedWriter(config)) {
                p.store(out, "ReceiptFailoverIT child node");
            }
            String java = ProcessHandle.current().info().command().orElse("java");
            doomed = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    LogicNodeMain.class.getName(), config.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("doomed.log").toFile()).start();
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> holders(admin, group).containsKey("doomed-cb"));

            TaskRepository tasks = new TaskRepository(redis,
                    new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
            long task = System.currentTimeMillis() * 1000 + 4343;
            long now = System.currentTimeMillis();
            tasks.create(new TaskBody(task, app, PayloadKind.DATA, "{}", now, now + 3_600_000, url, "p", 0),
                    TaskState.SENDING).join();
            tasks.markBroadcast(task, 100_000, 7).join();
            int devices = 100;
            publishAcks(app, task, devices);
            // Applied (delivered counted) and retried against the failing app server: then the node dies.
            await().atMost(AWAIT).until(() -> tasks.find(task).join().counter(TaskCounter.DELIVERED) == devices);
            await().atMost(AWAIT).until(() -> appServer.getAllServeEvents().size() >= 3);
            doomed.destroyForcibly();
            doomed.waitFor();
            appServer.resetAll();
            appServer.stubFor(post(urlEqualTo("/cb")).willReturn(aResponse().withStatus(200)));
            long t0 = System.nanoTime();
            Map<String, String> next = new HashMap<>(settings("next-cb", group));
            next.putAll(callbacks);
            try (LogicNode survivor = LogicNode.start(LogicConfig.from(Settings.of(next)))) {
                await().atMost(AWAIT).until(() -> acceptedRegIds(appServer).size() == devices);
                System.out.printf("MEASURED logic node SIGKILL with %d callbacks failing -> all posted by the next"
                        + " node %.2f s (lease 2 s)%n", devices, (System.nanoTime() - t0) / 1e9);
                await().atMost(AWAIT).until(() -> tasks.find(task).join().counter(TaskCounter.CALLBACK_SENT) == devices);
            }
        } finally {
            if (doomed != null) {
                doomed.destroyForcibly();
                doomed.waitFor();
            }
            appServer.stop();
            deleteQuietly(dir);
        }
    }

    private static Set<String> acceptedRegIds(WireMockServer appServer) throws Exception {
        Set<String> out = new HashSet<>();
        for (ServeEvent e : appServer.getAllServeEvents()) {
            if (e.getResponse().getStatus() / 100 == 2) {
                for (JsonNode r : HttpServer.JSON.readTree(e.getRequest().getBody()).get("receipts")) {
                    out.add(r.get("regId").asText());
                }
            }
        }
        return out;
    }

    private static void publishAcks(String app, long task, int devices) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < devices; i++) {
                AckRecord ack = new AckRecord(app, "dev-" + i, task, System.currentTimeMillis(), "b1");
                producer.send(new ProducerRecord<>(Topics.ACKS, ack.key(), ack.encode()));
            }
        }
    }

    /** Static member (logic.id) to how many ack partitions it holds, for members holding some. */
    private static Map<String, Integer> holders(Admin admin, String group) throws Exception {
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
        return d.members().stream().filter(m -> !m.assignment().topicPartitions().isEmpty())
                .collect(Collectors.toMap(m -> m.groupInstanceId().orElse(m.consumerId()),
                        m -> m.assignment().topicPartitions().size()));
    }

    private static Admin admin() throws IOException {
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
        return Admin.create(a);
    }
}
