package io.tern.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.broker.Broker;
import io.tern.broker.config.BrokerConfig;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.dispatcher.Dispatcher;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.diskkv.AsideMessage;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteChange;
import io.tern.store.route.RouteRepository;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The edge through a Redis outage: a real redis-server (AOF) killed with SIGKILL under a dispatcher and a broker,
 * real Kafka, the disk-KV stand-in and real SDK devices. In the outage a new device registers, dispatches and
 * connects; a message the logic node queued for it in the disk KV reaches it, its ack goes to tern.acks and the
 * entry leaves the disk KV; every connect and disconnect is on tern.routes in order; a device connected before stays
 * served and both roles' /health stay 200 showing the mode. Redis back: the routes of the devices are in Redis.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EdgeOutageIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dataDir;

    @Test
    void inARedisOutageADeviceConnectsThroughTheEdgeAndGetsAndAcksWhatTheDiskKvQueuedForIt() throws Exception {
        String app = "edge-" + UUID.randomUUID().toString().substring(0, 8);
        String clientKey = app + "-client-key";
        SharedInfra.kafka().createTopics(Topics.ACKS, Topics.ROUTES);
        RedisServer diskKvServer = SharedInfra.diskKv();
        try (RedisServer redis = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true)
                .withDataDir(dataDir));
             RedisStore store = RedisStore.connect(redis.uri(), Duration.ofSeconds(1));
             DiskKv disk = DiskKv.connect(diskKvServer.uri(), Duration.ofSeconds(2));
             Broker broker = Broker.start(brokerConfig(redis.uri(), diskKvServer.uri()));
             Dispatcher dispatcher = Dispatcher.start(dispatcherConfig(redis.uri(), app, clientKey));
             Devices devices = new Devices(dispatcher.address(), app, clientKey, null)) {
            TernClient before = devices.start("before");
            assertTrue(before.awaitConnected(AWAIT), "device before the outage did not connect");
            String beforeReg = devices.regId("before");
            await().atMost(AWAIT).until(() -> route(store, app, beforeReg) != null);

            long killedAt = System.nanoTime();
            redis.kill();
            InetSocketAddress brokerAdmin = broker.adminAddress();
            await().atMost(AWAIT).untilAsserted(() -> {
                assertStorage(brokerAdmin, "outage");
                assertStorage(dispatcher.address(), "outage");
            });
            long outageAt = System.nanoTime();

            // A new device: registration, dispatch and connect all in the outage.
            long startedAt = System.nanoTime();
            TernClient during = devices.start("during");
            assertTrue(during.awaitConnected(AWAIT), "device did not connect in the outage");
            long connectedAt = System.nanoTime();
            String reg = devices.regId("during");
            devices.stop("during");
            await().atMost(AWAIT).until(() -> broker.connectionCount() == 1);

            // What a logic node does for an offline device in an outage (pipeline outage.AsidePush): the message into
            // the disk KV's queue.
            long msgId = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
            long now = System.currentTimeMillis();
            AsideMessage queued = new AsideMessage(new NewMessage(msgId, app, reg, PayloadKind.DATA,
                    "{\"in\":\"outage\"}", now, now + 60_000, null, null, null), MessageStatus.OFFLINE);
            disk.enqueue(app, reg, msgId, queued.toJson(), now, now + 60_000).get(5, TimeUnit.SECONDS);

            long restartedDeviceAt = System.nanoTime();
            devices.start("during");
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(10))
                    .until(() -> devices.receivedBy("during").stream().anyMatch(m -> m.msgId() == msgId));
            long deliveredAt = System.nanoTime();
            PushMessage got = devices.receivedBy("during").stream().filter(m -> m.msgId() == msgId).findFirst()
                    .orElseThrow();
            assertEquals("{\"in\":\"outage\"}", got.payload());
            // The SDK acked it: the entry leaves the disk KV, and the ack record is on tern.acks.
            await().atMost(AWAIT).until(() -> disk.queued(app, reg, 10).get(5, TimeUnit.SECONDS).isEmpty());
            assertNull(diskKvServerGet(disk, app, reg, msgId), "the message body stayed in the disk KV");
            AckRecord ack = firstAck(app, reg, msgId);
            assertEquals(broker.id(), ack.brokerId());

            // connect, disconnect, connect of the device: on tern.routes in that order, each naming this broker.
            List<RouteChange> changes = routeChanges(app + ':' + reg, 3);
            assertEquals(List.of(true, false, true), changes.stream().map(RouteChange::isConnect).toList(),
                    changes.toString());
            assertTrue(changes.stream().allMatch(c -> broker.id().equals(
                    (c.isConnect() ? c.route() : c.ended()).brokerId())), changes.toString());
            assertEquals(changes.get(0).route(), changes.get(1).ended(), "the disconnect names the route that ended");

            // The device connected before the outage was served all along.
            assertEquals(TernClient.State.CONNECTED, before.state());
            assertEquals(1, before.stats().connects(), "the device connected before the outage had to reconnect");
            assertStorage(brokerAdmin, "outage");

            long redisBackAt = System.nanoTime();
            redis.restart();
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(10)).ignoreExceptions().untilAsserted(() -> {
                assertEquals(broker.id(), route(store, app, reg).brokerId());
                assertEquals(broker.id(), route(store, app, beforeReg).brokerId());
            });
            System.out.printf("[measure] kill -> both roles in outage mode (seen on /health) %d ms; in the outage: "
                            + "register+dispatch+connect %d ms, reconnect -> disk-KV message delivered %d ms; "
                            + "redis restart -> routes in Redis %d ms%n", ms(outageAt - killedAt),
                    ms(connectedAt - startedAt), ms(deliveredAt - restartedDeviceAt),
                    ms(System.nanoTime() - redisBackAt));
            await().atMost(AWAIT).untilAsserted(() -> {
                assertStorage(brokerAdmin, "normal");
                assertStorage(dispatcher.address(), "normal");
            });
        }
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private static BrokerConfig brokerConfig(String redisUri, String diskKvUri) {
        Map<String, String> m = new HashMap<>();
        m.put("broker.id", "edge-" + UUID.randomUUID().toString().substring(0, 8));
        m.put("broker.tcp-port", "0");
        m.put("broker.ws-port", "0");
        m.put("broker.internal-port", "0");
        m.put("broker.admin-port", "0");
        m.put("broker.io-threads", "2");
        m.put("broker.dev-mode", "true");
        m.put("broker.redis-uri", redisUri);
        m.put("broker.redis-timeout", "1s");
        m.put("broker.kafka-bootstrap", SharedInfra.kafka().bootstrapServers());
        m.put("broker.disk-kv-uri", diskKvUri);
        m.put("broker.shutdown-drain", "1s");
        return BrokerConfig.from(Settings.of(m));
    }

    private static DispatcherConfig dispatcherConfig(String redisUri, String app, String clientKey) {
        return DispatcherConfig.from(Settings.of(Map.of(
                "dispatcher.port", "0",
                "dispatcher.redis-uri", redisUri,
                "dispatcher.redis-timeout", "1s",
                "dispatcher.dev-mode", "true",
                "dispatcher.client-keys", app + "=" + clientKey)));
    }

    /** /health answers 200 and shows the storage mode. */
    private static void assertStorage(InetSocketAddress at, String mode) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort()
                + "/health")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = HttpServer.JSON.readTree(r.body());
        assertEquals(mode, body.get("storage").asText(), r.body());
    }

    private static Route route(RedisStore store, String app, String reg) throws Exception {
        return new RouteRepository(store).get(app, reg).get(2, TimeUnit.SECONDS);
    }

    /** The queued message's body in the disk KV (null once dequeued). */
    private static String diskKvServerGet(DiskKv disk, String app, String reg, long msgId) throws Exception {
        try (RedisStore raw = RedisStore.connect(SharedInfra.diskKv().uri(), Duration.ofSeconds(2))) {
            return raw.async().get(DiskKv.messageKey(msgId)).get(2, TimeUnit.SECONDS);
        }
    }

    private static KafkaConsumer<String, byte[]> fromTheBeginning(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p);
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    private static AckRecord firstAck(String app, String reg, long msgId) {
        try (KafkaConsumer<String, byte[]> consumer = fromTheBeginning(Topics.ACKS)) {
            long deadline = System.nanoTime() + AWAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    AckRecord a = AckRecord.decode(r.value());
                    if (a.appId().equals(app) && reg.equals(a.regId()) && a.msgId() == msgId) {
                        return a;
                    }
                }
            }
        }
        throw new AssertionError("no ack of " + msgId + " on " + Topics.ACKS + " within " + AWAIT);
    }

    /** The first {@code n} route changes keyed {@code key}, in partition order (one key: one partition). */
    private static List<RouteChange> routeChanges(String key, int n) {
        List<RouteChange> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = fromTheBeginning(Topics.ROUTES)) {
            long deadline = System.nanoTime() + AWAIT.toNanos();
            while (System.nanoTime() < deadline && out.size() < n) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (key.equals(r.key())) {
                        RouteChange c = RouteChange.decode(r.value());
                        assertEquals(key, c.key());
                        out.add(c);
                    }
                }
            }
        }
        assertTrue(out.size() >= n, "route changes of " + key + ": " + out);
        return out.subList(0, n);
    }
}
