package io.tern.broker;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.QueuePolicy;
import io.tern.store.receipt.AckRepository;
import io.tern.store.redis.RedisStore;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Devices of a real broker ack a counted broadcast live, reconnect without having seen it (a
 * catch-up delivers it again) and ack it again; the count records on the real Kafka ack topic,
 * applied to a real Redis, and applied again (a Kafka replay), count each device once.
 */
class BroadcastAckOnceIT {
    private static final int DEVICES = 20;

    @Test
    void aDeviceAckingLiveAndAgainAfterACatchUpAndAReplayedRecordCountOnce() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        Broker broker = Broker.start(TestBrokers.config(Map.of("broker.ack-count-interval", "50ms")));
        String app = TestBrokers.uniqueApp();
        try (RedisStore redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(5))) {
            TaskRepository tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(1), Duration.ofDays(1),
                    Duration.ofHours(1)));
            long taskId = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
            long expires = System.currentTimeMillis() + 600_000;
            tasks.create(new TaskBody(taskId, app, PayloadKind.DATA, "{}", System.currentTimeMillis(), expires, null, null, 0),
                    TaskState.SENDING).join();
            tasks.markBroadcast(taskId, 100_000, 7).join();
            // Live: every device gets the broadcast and acks it; the broker counts the acks.
            List<FrameClient> devices = connect(broker, app, 0);
            // Logged after every device's recorded connect time (the broker reads its clock for it just after the
            // CONNACK, so a paused loop may record it later than the test's clock): the reconnect's catch-up,
            // "broadcasts since the previous connect", then surely includes it.
            BroadcastLog log = new BroadcastLog(redis);
            long lastConnect = await().atMost(Duration.ofSeconds(15)).until(() -> latestConnect(log, app), t -> t > 0);
            long seq = log.append(app, taskId, expires, Math.max(System.currentTimeMillis(), lastConnect + 1)).join();
            Frame.Push push = new Frame.Push(taskId, expires, PayloadKind.DATA, "{}".getBytes(StandardCharsets.UTF_8), seq);
            try (FrameClient logic = FrameClient.internal(broker.internalAddress())) {
                logic.send(new Frame.Broadcast(1, app, push, true));
                assertEquals(DEVICES, logic.expect(Frame.BroadcastResult.class).written());
            }
            ackEach(devices, taskId);
            devices.forEach(FrameClient::close);
            // Reconnect without a broadcast sequence (an SDK that kept none): the catch-up sends every
            // broadcast since the previous connect again, and it is acked again.
            devices = connect(broker, app, 0);
            ackEach(devices, taskId);

            List<AckRecord> records = AckTopic.acksOf(app, a -> devicesIn(a) >= 2 * DEVICES, Duration.ofSeconds(30));
            assertEquals(2 * DEVICES, devicesIn(records), "each device acked twice: " + records);
            AckRepository acks = new AckRepository(redis, Duration.ofSeconds(30), 1_000_000, 100_000);
            for (int pass = 0; pass < 2; pass++) { // the second pass is a Kafka replay
                for (AckRecord r : records) {
                    if (r.isCount()) {
                        acks.applyCount(r).join();
                    } else {
                        acks.apply(r, System.currentTimeMillis()).join();
                    }
                }
                assertEquals(DEVICES, tasks.find(taskId).join().counter(TaskCounter.DELIVERED), "pass " + pass);
            }
            devices.forEach(FrameClient::close);
        } finally {
            broker.close();
        }
    }

    /** The latest recorded connect time of the app's devices, or 0 while one of them has none yet. */
    private static long latestConnect(BroadcastLog log, String app) {
        long latest = 0;
        for (int i = 0; i < DEVICES; i++) {
            Long t = log.previousConnect(app, "d" + i).join();
            if (t == null) {
                return 0;
            }
            latest = Math.max(latest, t);
        }
        return latest;
    }

    private static long devicesIn(List<AckRecord> records) {
        return records.stream().mapToLong(r -> r.isCount() ? r.total() : 1).sum();
    }

    private static List<FrameClient> connect(Broker broker, String app, long lastBroadcastSeq) {
        List<FrameClient> devices = new ArrayList<>(DEVICES);
        for (int i = 0; i < DEVICES; i++) {
            FrameClient d = FrameClient.tcp(broker.tcpAddress());
            d.send(new Frame.Connect(app, "d" + i, TestBrokers.token(app, "d" + i), lastBroadcastSeq));
            devices.add(d);
        }
        devices.forEach(d -> d.expect(Frame.ConnAck.class));
        return devices;
    }

    private static void ackEach(List<FrameClient> devices, long taskId) {
        for (FrameClient d : devices) {
            assertEquals(taskId, d.expect(Frame.Push.class).msgId());
            d.send(new Frame.Ack(taskId));
        }
    }
}
