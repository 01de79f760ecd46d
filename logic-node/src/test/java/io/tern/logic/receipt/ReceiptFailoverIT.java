package io.tern.logic.receipt;

import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.LogicNodeMain;
import io.tern.logic.config.LogicConfig;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.config.Settings;
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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Collectors;

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
            tasks.markBroadcast(task).join();

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
        }
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
