package io.tern.broker;

import io.netty.handler.codec.http.HttpMethod;
import io.tern.client.PushListener;
import io.tern.client.PushMessage;
import io.tern.client.dispatch.DeviceCredentials;
import io.tern.client.TernClient;
import io.tern.client.Transport;
import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.token.ConnectToken;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.tag.TagRepository;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device SDK against a real broker, over TCP and WebSocket. The dispatcher is stood in by
 * a one-route HTTP server that lists this broker and signs a token, as the real one does (it does
 * not check the device's signature: the dispatcher's own tests do).
 */
class SdkIT {
    private static final Duration AWAIT = Duration.ofSeconds(10);

    private static Broker broker;
    /** The broker the dispatcher stand-in sends devices to. */
    private static volatile Broker serving;
    private static HttpServer dispatcher;
    private static FrameClient logic;
    private static RedisStore redis;
    private static TaskRepository tasks;
    private static BroadcastLog log;
    private static TagRepository tags;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        broker = Broker.start(TestBrokers.config(Map.of()));
        serving = broker;
        logic = FrameClient.internal(broker.internalAddress());
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
        log = new BroadcastLog(redis);
        tags = new TagRepository(redis);
        dispatcher = HttpServer.builder("test-dispatcher", new SimpleMeterRegistry())
                .route(HttpMethod.GET, "/v1/dispatch", req -> {
                    long expiresAt = System.currentTimeMillis() + 60_000;
                    String token = TestBrokers.SIGNER.sign(new ConnectToken(req.queryParam("appId"),
                            req.queryParam("regId"), "local", expiresAt));
                    return CompletableFuture.completedFuture(HttpResponse.ok(Map.of(
                            "brokers", List.of("127.0.0.1:" + serving.tcpAddress().getPort()),
                            "wsBrokers", List.of("ws://127.0.0.1:" + serving.wsAddress().getPort() + "/v1/ws"),
                            "token", token, "expiresAt", expiresAt)));
                })
                .start(new HttpEndpoint("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() {
        if (logic != null) {
            logic.close();
        }
        if (dispatcher != null) {
            dispatcher.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void sdkConnectsReceivesAPushAndItsAckReachesKafka(Transport transport) throws Exception {
        String app = TestBrokers.uniqueApp();
        BlockingQueue<PushMessage> received = new LinkedBlockingQueue<>();
        try (TernClient client = TernClient.builder()
                .dispatcher(URI.create("http://127.0.0.1:" + dispatcher.address().getPort()))
                .appId(app)
                .credentials(new DeviceCredentials("sdk-device", "unchecked-by-the-stand-in"))
                .transport(transport)
                .listener(new PushListener() {
                    @Override
                    public void onMessage(PushMessage message) {
                        received.add(message);
                    }
                })
                .build()) {
            client.start();
            assertTrue(client.awaitConnected(AWAIT), "SDK did not connect over " + transport);

            logic.send(new Frame.PushCommand(1, app, "sdk-device", new Frame.Push(777,
                    System.currentTimeMillis() + 60_000, PayloadKind.NOTIFICATION,
                    "{\"title\":\"t\",\"body\":\"b\"}".getBytes(StandardCharsets.UTF_8))));
            assertEquals(new Frame.PushResult(1, PushOutcome.WRITTEN), logic.expect(Frame.PushResult.class));

            PushMessage m = received.poll(AWAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(m, "no message over " + transport);
            assertEquals(777, m.msgId());
            assertEquals("{\"title\":\"t\",\"body\":\"b\"}", m.payload());

            AckRecord ack = AckTopic.firstAckOf(app, AWAIT);
            assertEquals(777, ack.msgId());
            assertEquals(broker.id(), ack.brokerId());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void sdkKeepsTheBroadcastSequenceAndARestartedClientCatchesUpFromIt(Transport transport) throws Exception {
        String app = TestBrokers.uniqueApp();
        long live = System.currentTimeMillis() + 60_000;
        long first = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
        BlockingQueue<PushMessage> received = new LinkedBlockingQueue<>();
        long kept;
        try (TernClient client = sdk(app, transport, received, 0)) {
            client.subscribe("news");
            client.start();
            assertTrue(client.awaitConnected(AWAIT), "SDK did not connect over " + transport);
            long seq = log.append(app, task(app, first, live), live).join();
            logic.send(new Frame.Broadcast(2, app, new Frame.Push(first, live, PayloadKind.DATA,
                    "{\"n\":1}".getBytes(StandardCharsets.UTF_8), seq)));
            assertEquals(new Frame.BroadcastResult(2, 1), logic.expect(Frame.BroadcastResult.class));
            PushMessage m = received.poll(AWAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(m, "no broadcast over " + transport);
            assertEquals(first, m.msgId());
            assertEquals(seq, client.lastBroadcastSeq());
            await().atMost(AWAIT).until(() -> tags.members(app, "news", List.of("sdk-device")).join().equals(List.of(true)));
            kept = client.lastBroadcastSeq();
        }
        // Broadcast while the app is not running; the next run starts from the sequence it kept.
        long second = first + 1;
        long secondSeq = log.append(app, task(app, second, live), live).join();
        try (TernClient client = sdk(app, transport, received, kept)) {
            client.start();
            PushMessage m = received.poll(AWAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(m, "no catch-up over " + transport);
            assertEquals(second, m.msgId());
            assertNull(received.poll(300, TimeUnit.MILLISECONDS), "only the missed broadcast");
            assertEquals(secondSeq, client.lastBroadcastSeq());
        }
    }

    @Test
    void broadcastAcksHeldWhenTheBrokerStopsAreSentOnTheNextConnectionWithoutASecondDelivery() throws Exception {
        String app = TestBrokers.uniqueApp();
        long live = System.currentTimeMillis() + 60_000;
        long id = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
        BlockingQueue<PushMessage> received = new LinkedBlockingQueue<>();
        // Acks held far longer than the test: the stop ends the connection with this one still held.
        Broker stopping = Broker.start(TestBrokers.config(Map.of("broker.broadcast-ack-delay", "60s")));
        try (FrameClient node = FrameClient.internal(stopping.internalAddress());
             TernClient client = sdk(app, Transport.TCP, received, 0)) {
            serving = stopping;
            client.start();
            assertTrue(client.awaitConnected(AWAIT));
            long seq = log.append(app, task(app, id, live), live).join();
            node.send(new Frame.Broadcast(3, app, new Frame.Push(id, live, PayloadKind.DATA,
                    "{\"n\":1}".getBytes(StandardCharsets.UTF_8), seq)));
            assertEquals(new Frame.BroadcastResult(3, 1), node.expect(Frame.BroadcastResult.class));
            assertEquals(id, received.poll(AWAIT.toMillis(), TimeUnit.MILLISECONDS).msgId());

            serving = broker;
            stopping.close(); // REDIRECT SERVER_SHUTTING_DOWN; the device re-dispatches to the other broker

            AckRecord ack = AckTopic.firstAckOf(app, AWAIT);
            assertEquals(id, ack.msgId(), "the next connection got the broadcast again and acked it");
            assertEquals(broker.id(), ack.brokerId());
            assertNull(received.poll(300, TimeUnit.MILLISECONDS), "the app saw it once: the copy was a duplicate");
            assertEquals(seq, client.lastBroadcastSeq());
        } finally {
            serving = broker;
            stopping.close();
        }
    }

    private static TernClient sdk(String app, Transport transport, BlockingQueue<PushMessage> received, long lastSeq) {
        return TernClient.builder()
                .dispatcher(URI.create("http://127.0.0.1:" + dispatcher.address().getPort()))
                .appId(app)
                .credentials(new DeviceCredentials("sdk-device", "unchecked-by-the-stand-in"))
                .transport(transport)
                .lastBroadcastSeq(lastSeq)
                .listener(new PushListener() {
                    @Override
                    public void onMessage(PushMessage message) {
                        received.add(message);
                    }
                })
                .build();
    }

    private static long task(String app, long id, long expiresAt) {
        tasks.create(new TaskBody(id, app, PayloadKind.DATA, "{\"n\":" + id + "}", System.currentTimeMillis(),
                expiresAt, null, null, 0), TaskState.SENDING).join();
        return id;
    }
}
