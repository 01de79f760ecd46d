package io.tern.broker;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tern.devstack.SharedInfra;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.tag.TagRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Group push on a real broker (real Redis and Kafka): PUSH_BATCH, BROADCAST to every connection
 * of an app, broadcast catch-up on connect, and SUBSCRIBE into the tag sets. Devices and the
 * logic node are raw-frame clients.
 */
class GroupPushIT {
    private static final Duration AWAIT = Duration.ofSeconds(10);
    private static final AtomicLong ids = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));

    private static Broker broker;
    private static RedisStore redis;
    private static TaskRepository tasks;
    private static BroadcastLog log;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        // Small chunks: a 300-connection broadcast takes many tasks per event loop.
        broker = Broker.start(TestBrokers.config(Map.of("broker.broadcast-chunk", "16")));
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
        log = new BroadcastLog(redis);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    /** Many devices at once: all CONNECTs go out, then every CONNACK is awaited. */
    private static List<FrameClient> connectAll(String app, String regPrefix, int n) {
        List<FrameClient> devices = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            FrameClient d = FrameClient.tcp(broker.tcpAddress());
            d.send(new Frame.Connect(app, regPrefix + i, TestBrokers.token(app, regPrefix + i), 0));
            devices.add(d);
        }
        devices.forEach(d -> d.expect(Frame.ConnAck.class));
        return devices;
    }

    private static void closeAll(List<FrameClient> devices) {
        devices.forEach(FrameClient::close);
    }

    private static Frame.Push push(long id, long seq) {
        return new Frame.Push(id, System.currentTimeMillis() + 60_000, PayloadKind.DATA,
                ("{\"task\":" + id + "}").getBytes(StandardCharsets.UTF_8), seq);
    }

    private static double counter(String name, String... tags) {
        MeterRegistry r = broker.observability().registry();
        var c = r.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void pushBatchReachesTheConnectedDevicesAndNamesTheAbsentOnes() {
        String app = TestBrokers.uniqueApp();
        List<FrameClient> devices = connectAll(app, "r", 3);
        try (FrameClient logic = FrameClient.internal(broker.internalAddress())) {
            Frame.Push push = push(ids.incrementAndGet(), 0);
            logic.send(new Frame.PushBatch(71, app, push, List.of("r0", "gone-1", "r1", "r2", "gone-2")));
            Frame.PushBatchResult result = logic.expect(Frame.PushBatchResult.class);
            assertEquals(71, result.correlationId());
            assertEquals(3, result.written());
            assertEquals(Set.of("gone-1", "gone-2"), new HashSet<>(result.notConnected()));
            for (FrameClient d : devices) {
                assertEquals(push, d.expect(Frame.Push.class));
                d.expectSilence(Duration.ofMillis(50));
            }
        } finally {
            closeAll(devices);
        }
    }

    @Test
    void broadcastReachesEveryConnectionOfTheAppOnceAndNoneOfAnotherApp() {
        String app = TestBrokers.uniqueApp();
        String other = TestBrokers.uniqueApp();
        List<FrameClient> devices = connectAll(app, "d", 300);
        List<FrameClient> others = connectAll(other, "d", 20);
        double writtenBefore = counter("tern.broker.broadcast.deliveries", "result", "written");
        try (FrameClient logic = FrameClient.internal(broker.internalAddress())) {
            Frame.Push push = push(ids.incrementAndGet(), 9);
            logic.send(new Frame.Broadcast(72, app, push));
            assertEquals(new Frame.BroadcastResult(72, 300), logic.expect(Frame.BroadcastResult.class));
            for (FrameClient d : devices) {
                Frame.Push got = d.expect(Frame.Push.class);
                assertEquals(push, got);
                assertEquals(9, got.broadcastSeq());
            }
            // Anything else would have been written before the result was sent.
            for (FrameClient d : devices) {
                assertNull(d.next(Duration.ZERO), "one copy per connection");
            }
            for (FrameClient d : others) {
                assertNull(d.next(Duration.ZERO), "another app's device got the broadcast");
            }
            assertEquals(300, counter("tern.broker.broadcast.deliveries", "result", "written") - writtenBefore);
        } finally {
            closeAll(devices);
            closeAll(others);
        }
    }

    @Test
    void broadcastsSentTogetherReachTcpAndWebSocketDevicesOnceEachInOrder() {
        String app = TestBrokers.uniqueApp();
        List<FrameClient> devices = connectAll(app, "t", 40);
        for (int i = 0; i < 5; i++) {
            FrameClient ws = FrameClient.webSocket(broker.wsAddress());
            ws.connect(app, "w" + i, TestBrokers.token(app, "w" + i));
            devices.add(ws);
        }
        try (FrameClient logic = FrameClient.internal(broker.internalAddress())) {
            List<Frame.Push> pushes = new ArrayList<>();
            ByteBuf together = Unpooled.buffer();
            for (int k = 0; k < 10; k++) {
                Frame.Push push = push(ids.incrementAndGet(), 100 + k);
                pushes.add(push);
                ByteBuf one = FrameCodec.encode(new Frame.Broadcast(80 + k, app, push), ByteBufAllocator.DEFAULT);
                together.writeBytes(one);
                one.release();
            }
            byte[] bytes = new byte[together.readableBytes()];
            together.readBytes(bytes);
            together.release();
            logic.sendRaw(bytes); // one read on the broker: the broadcasts are in flight together

            Set<Long> answered = new HashSet<>();
            for (int k = 0; k < 10; k++) {
                Frame.BroadcastResult r = logic.expect(Frame.BroadcastResult.class);
                assertEquals(45, r.written());
                answered.add(r.correlationId());
            }
            assertEquals(10, answered.size());
            for (FrameClient d : devices) {
                for (Frame.Push push : pushes) {
                    assertEquals(push, d.expect(Frame.Push.class));
                }
                assertNull(d.next(Duration.ZERO), "one copy of each per connection");
            }
        } finally {
            closeAll(devices);
        }
    }

    private static long task(String app, long expiresAt) {
        long id = ids.incrementAndGet();
        tasks.create(new TaskBody(id, app, PayloadKind.DATA, "{\"task\":" + id + "}", System.currentTimeMillis(),
                expiresAt, null, null, 0), TaskState.SENDING).join();
        return id;
    }

    private static long broadcast(String app, long taskId, long expiresAt) {
        return log.append(app, taskId, expiresAt, System.currentTimeMillis() + 5).join();
    }

    @Test
    void aReconnectingDeviceGetsTheBroadcastsItMissedButNotRecalledOrExpiredOnes() {
        String app = TestBrokers.uniqueApp();
        long live = System.currentTimeMillis() + 60_000;
        long seen = broadcast(app, task(app, live), live);
        long missed = task(app, live);
        long missedSeq = broadcast(app, missed, live);
        long recalled = task(app, live);
        broadcast(app, recalled, live);
        tasks.recall(recalled, System.currentTimeMillis()).join();
        long expired = task(app, System.currentTimeMillis() - 1);
        broadcast(app, expired, System.currentTimeMillis() - 1);
        long alsoMissed = task(app, live);
        long alsoMissedSeq = broadcast(app, alsoMissed, live);

        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.send(new Frame.Connect(app, "r1", TestBrokers.token(app, "r1"), seen));
            device.expect(Frame.ConnAck.class);
            Frame.Push first = device.expect(Frame.Push.class);
            assertEquals(missed, first.msgId(), "the msgId is the taskId");
            assertEquals(missedSeq, first.broadcastSeq());
            assertEquals("{\"task\":" + missed + "}", new String(first.payload(), StandardCharsets.UTF_8));
            Frame.Push second = device.expect(Frame.Push.class);
            assertEquals(alsoMissed, second.msgId());
            assertEquals(alsoMissedSeq, second.broadcastSeq());
            device.expectSilence(Duration.ofMillis(300));
        }
        await().atMost(AWAIT).untilAsserted(() -> {
            StoredTask t = tasks.find(missed).join();
            assertEquals(1, t.counter(TaskCounter.SENT), "a catch-up copy counts as sent");
            assertEquals(1, t.counter(TaskCounter.TARGETED));
        });
    }

    @Test
    void withoutASequenceADeviceGetsWhatWasBroadcastSinceItsPreviousConnectAndANewDeviceNothing() {
        String app = TestBrokers.uniqueApp();
        long live = System.currentTimeMillis() + 60_000;
        long before = task(app, live);
        log.append(app, before, live, System.currentTimeMillis() - 60_000).join();
        // The device was last here a second ago; the broadcast after that is what it missed.
        new RouteRepository(redis).put(app, "known", new Route("elsewhere", "e1"), System.currentTimeMillis() - 1000).join();
        long after = task(app, live);
        long afterSeq = broadcast(app, after, live);

        try (FrameClient known = FrameClient.tcp(broker.tcpAddress());
             FrameClient fresh = FrameClient.tcp(broker.tcpAddress())) {
            known.connect(app, "known", TestBrokers.token(app, "known"));
            Frame.Push got = known.expect(Frame.Push.class);
            assertEquals(after, got.msgId());
            assertEquals(afterSeq, got.broadcastSeq());
            known.expectSilence(Duration.ofMillis(200));

            fresh.connect(app, "fresh", TestBrokers.token(app, "fresh"));
            fresh.expectSilence(Duration.ofMillis(300));
        }
    }

    @Test
    void subscribeAndUnsubscribeLandInTheTagSets() {
        String app = TestBrokers.uniqueApp();
        TagRepository tags = new TagRepository(redis);
        try (FrameClient device = FrameClient.tcp(broker.tcpAddress())) {
            device.connect(app, "r1", TestBrokers.token(app, "r1"));
            device.send(new Frame.Subscribe(List.of("news", "city:berlin")));
            await().atMost(AWAIT).until(() -> tags.members(app, "news", List.of("r1")).join().equals(List.of(true))
                    && tags.members(app, "city:berlin", List.of("r1")).join().equals(List.of(true)));
            device.send(new Frame.Unsubscribe(List.of("news")));
            await().atMost(AWAIT).until(() -> tags.members(app, "news", List.of("r1")).join().equals(List.of(false)));
            assertEquals(List.of(true), tags.members(app, "city:berlin", List.of("r1")).join());
            assertTrue(device.isOpen());
            assertTrue(counter("tern.broker.tag.updates", "op", "subscribe") >= 2);
            assertTrue(counter("tern.broker.tag.updates", "op", "unsubscribe") >= 1);
        }
    }
}
