package io.tern.local.chaos;

import io.tern.devstack.process.ProcessCluster;
import io.tern.devstack.process.RoleProcess;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.route.Route;
import io.tern.store.route.RouteChange;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The chaos fixture with the disk KV: {@code ProcessCluster.withDiskKvBackups} starts the disk KV's stand-in
 * (redis-server, AOF always) and a disk-KV backup as its own process, with {@code tern.routes} compacted. A route
 * change on Kafka reaches the disk KV, and survives a SIGKILL of the disk KV; the backup, SIGKILLed too, resumes.
 */
class DiskKvBackupProcessIT {

    @Test
    void theFixturesDiskKvBackupKeepsRoutesThroughKillsOfTheDiskKvAndOfItself() throws Exception {
        Path dir = Path.of("target", "disk-kv-process", LocalDateTime.now().format(DateTimeFormatter.ofPattern(
                "yyyyMMdd-HHmmss"))).toAbsolutePath();
        try (ProcessCluster cluster = ProcessCluster.start(ProcessCluster.Options.of(dir, 1, 1, Map.of(), Topics.ALL)
                .withCompactedTopics(Topics.COMPACTED).withDiskKvBackups(1)
                .withMaxLifetime(Duration.ofMinutes(6)), System.out::println);
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                     cluster.kafkaBootstrap(), "acks", "all"), new StringSerializer(), new ByteArraySerializer());
             Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.kafkaBootstrap()))) {
            ConfigResource routes = new ConfigResource(ConfigResource.Type.TOPIC, Topics.ROUTES);
            assertEquals("compact", admin.describeConfigs(List.of(routes)).all().get(30, TimeUnit.SECONDS)
                    .get(routes).get("cleanup.policy").value());
            RoleProcess backup = cluster.diskKvBackups().get(0);
            Route first = new Route("b1", "e1");
            Route second = new Route("b1", "e2");
            send(producer, RouteChange.connected("app-p", "dev-1", first, System.currentTimeMillis()));
            try (DiskKv diskKv = DiskKv.connect(cluster.diskKv().uri(), Duration.ofSeconds(5))) {
                await().atMost(Duration.ofSeconds(60)).until(() -> first.equals(diskKv.route("app-p", "dev-1").join()));
            }

            cluster.killDiskKv();
            cluster.restartDiskKv();
            try (DiskKv diskKv = DiskKv.connect(cluster.diskKv().uri(), Duration.ofSeconds(5))) {
                assertEquals(first, diskKv.route("app-p", "dev-1").join(), "lost by a SIGKILL of the disk KV");

                backup.kill();
                send(producer, RouteChange.connected("app-p", "dev-1", second, System.currentTimeMillis()));
                backup.restart(Duration.ofSeconds(120));
                await().atMost(Duration.ofSeconds(60)).until(() -> second.equals(diskKv.route("app-p", "dev-1").join()));
            }
        }
    }

    private static void send(KafkaProducer<String, byte[]> producer, RouteChange c) throws Exception {
        producer.send(new ProducerRecord<>(Topics.ROUTES, c.key(), c.encode())).get(30, TimeUnit.SECONDS);
    }
}
