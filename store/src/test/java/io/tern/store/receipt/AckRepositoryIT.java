package io.tern.store.receipt;

import io.tern.store.TestRedis;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.NewMessage;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.DeviceHash;
import io.tern.store.Keys;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.callback.ParkedReceipt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ack-device.lua and ack-task.lua (batched device acks) and broker counts (CountedDevices) against a real Redis. */
class AckRepositoryIT {
    private static final long NOW = System.currentTimeMillis();
    private static final AtomicLong ids = new AtomicLong(System.nanoTime());
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final QueuePolicy POLICY = new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24));

    private static RedisStore redis;
    private static AckRepository acks;
    private static TaskRepository tasks;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(2));
        acks = new AckRepository(redis, LEASE, 1_000_000, 100_000);
        tasks = new TaskRepository(redis, POLICY);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static String app() {
        return "app-" + UUID.randomUUID();
    }

    private static long broadcastTask(String app, String callbackUrl) {
        long id = ids.incrementAndGet();
        tasks.create(new TaskBody(id, app, PayloadKind.DATA, "{}", NOW, NOW + 60_000, callbackUrl,
                callbackUrl == null ? null : "p", 0), TaskState.SENDING).join();
        tasks.markBroadcast(id, 100_000, 7).join();
        return id;
    }

    private static long delivered(long taskId) {
        return tasks.find(taskId).join().counter(TaskCounter.DELIVERED);
    }

    /** Hashes of devices {@code prefix0 .. prefix(n-1)}. */
    private static long[] devices(String prefix, int from, int to) {
        return java.util.stream.IntStream.range(from, to).mapToLong(i -> DeviceHash.of(prefix + i)).toArray();
    }

    @Test
    void aReplayedCountRecordAddsNothing() {
        long task = broadcastTask(app(), null);
        AckRecord count = AckRecord.count("a", task, NOW, "b1", devices("d", 0, 500));
        assertEquals(500, acks.applyCount(count).join());
        assertEquals(0, acks.applyCount(AckRecord.decode(count.encode())).join(),
                "the same record again, e.g. replayed from Kafka after a consumer crash");
        assertEquals(500, delivered(task));
    }

    @Test
    void aDeviceCountedLiveAndAgainViaCatchUpOrAnotherBrokerCountsOnce() {
        String app = app();
        long task = broadcastTask(app, null);
        assertEquals(300, acks.applyCount(AckRecord.count(app, task, NOW, "b1", devices("d", 0, 300))).join());
        // The same devices reconnect elsewhere and ack the broadcast again from the catch-up:
        // counted by another broker, or per device once that broker stopped counting.
        assertEquals(100, acks.applyCount(AckRecord.count(app, task, NOW, "b2", devices("d", 200, 400))).join());
        acks.apply(new AckRecord(app, "d5", task, NOW, "b2"), NOW).join();
        acks.apply(new AckRecord(app, "late", task, NOW, "b1"), NOW).join();
        assertEquals(401, delivered(task));
    }

    @Test
    void aLargeBroadcastCountsEveryDeviceExactlyOnce() {
        long task = broadcastTask(app(), null);
        long added = 0;
        for (int from = 0; from < 10_000; from += 1000) {
            added += acks.applyCount(AckRecord.count("a", task, NOW, "b1", devices("bulk", from, from + 1000))).join();
        }
        assertEquals(10_000, added, "an exact set: no device lost to a false positive");
        assertEquals(10_000, delivered(task));
        assertEquals(0, acks.applyCount(AckRecord.count("a", task, NOW, "b2", devices("bulk", 0, 1000))).join());
        assertEquals(80_000L, redis.async().strlen(Keys.taskAckSet(task)).toCompletableFuture().join(),
                "8 bytes a counted device");
        long ttl = redis.async().pttl(Keys.taskAckSet(task)).toCompletableFuture().join();
        assertTrue(ttl > 0, "the counted set expires with its task, pttl " + ttl);
    }

    /** Per device acks of {@code regIds}, applied through ack-task.lua (and the set, for a broadcast without a callback). */
    private static long ackEach(String app, long task, List<String> regIds) {
        return acks.applyAll(regIds.stream().map(r -> new AckRecord(app, r, task, NOW, "b1")).toList(), NOW).join()
                .stream().filter(AppliedAck::counted).count();
    }

    private static List<String> regIds(String prefix, int from, int to) {
        return java.util.stream.IntStream.range(from, to).mapToObj(i -> prefix + i).toList();
    }

    @Test
    void devicesCountedPerDeviceAreKnownToCountRecordsAndTheOtherWayRound() {
        String app = app();
        long task = broadcastTask(app, null);
        assertEquals(300, ackEach(app, task, regIds("d", 0, 300)));
        assertEquals(300, acks.applyCount(AckRecord.count(app, task, NOW, "b1", devices("d", 0, 600))).join(),
                "only the devices not acked per device");
        assertEquals(0, ackEach(app, task, regIds("d", 0, 600)));
        assertEquals(600, delivered(task));
    }

    @Test
    void aCountForAnUnknownTaskChangesNothing() {
        long unknown = ids.incrementAndGet();
        assertEquals(-1, acks.applyCount(AckRecord.count("a", unknown, NOW, "b1", devices("d", 0, 5))).join());
        assertEquals(0, redis.async().exists(Keys.task(unknown)).toCompletableFuture().join(),
                "no task hash without a TTL");
    }

    @Test
    void aBatchOfDeviceAcksIsAppliedInOrderWithOneResultEach() {
        String app = app();
        new RouteRepository(redis).put(app, "d", new Route("b1", "e1"), NOW).join();
        MessageRepository messages = new MessageRepository(redis, POLICY);
        long msg = ids.incrementAndGet();
        messages.accept(new NewMessage(msg, app, "d", PayloadKind.DATA, "{}", NOW, NOW + 60_000, null,
                "http://cb", "x")).join();
        long task = broadcastTask(app, "http://task-cb");
        long unknown = ids.incrementAndGet();

        List<AppliedAck> got = acks.applyAll(List.of(
                new AckRecord(app, "d", msg, NOW, "b1"),
                new AckRecord(app, "d", msg, NOW, "b1"),
                new AckRecord(app, "d1", task, NOW, "b1"),
                new AckRecord(app, "d", unknown, NOW, "b1"),
                new AckRecord(app, "d2", task, NOW, "b1")), NOW).join();

        assertEquals(List.of(
                new AppliedAck(AppliedAck.Target.MESSAGE, true, new ParkedReceipt(app, "http://cb", msg, false, "d", "x", NOW)),
                new AppliedAck(AppliedAck.Target.MESSAGE, false, null),
                new AppliedAck(AppliedAck.Target.TASK, true, new ParkedReceipt(app, "http://task-cb", task, true, "d1", "p", NOW)),
                new AppliedAck(AppliedAck.Target.UNKNOWN, false, null),
                new AppliedAck(AppliedAck.Target.TASK, true, new ParkedReceipt(app, "http://task-cb", task, true, "d2", "p", NOW))),
                got);
        assertEquals(2, delivered(task));
        assertFalse(redis.async().hget(Keys.message(app, "d", msg), "deliveredAt").toCompletableFuture().join().isEmpty());
    }

    private static final AppliedAck NOTHING = new AppliedAck(AppliedAck.Target.UNKNOWN, false, null);

    private long singlePush(String app, String reg) {
        new RouteRepository(redis).put(app, reg, new Route("b1", "e1"), NOW).join();
        long msg = ids.incrementAndGet();
        new MessageRepository(redis, POLICY).accept(new NewMessage(msg, app, reg, PayloadKind.DATA, "{}", NOW,
                NOW + 60_000, null, "http://cb", "x")).join();
        return msg;
    }

    private static String field(String key, String field) {
        return redis.async().hget(key, field).toCompletableFuture().join();
    }

    @Test
    void anAckOfAnotherDevicesMessageChangesNoStatusAndReturnsNoCallback() {
        String app = app();
        long msg = singlePush(app, "victim");
        String statusBefore = field(Keys.message(app, "victim", msg), "status");

        List<AppliedAck> got = acks.applyAll(List.of(
                new AckRecord(app, "intruder", msg, NOW, "b1"),          // another device of the same app
                new AckRecord(app(), "victim", msg, NOW, "b1")), NOW).join(); // the same regId in another app

        assertEquals(List.of(NOTHING, NOTHING), got);
        assertEquals(statusBefore, field(Keys.message(app, "victim", msg), "status"));
        assertEquals(null, field(Keys.message(app, "victim", msg), "deliveredAt"));
        assertEquals(1L, redis.async().zcard(Keys.queue(app, "victim")).toCompletableFuture().join(),
                "still queued for its device");
        // The device it was for still acks it.
        assertEquals(new AppliedAck(AppliedAck.Target.MESSAGE, true, new ParkedReceipt(app, "http://cb", msg, false,
                "victim", "x", NOW)), acks.apply(new AckRecord(app, "victim", msg, NOW, "b1"), NOW).join());
        assertEquals("delivered", field(Keys.message(app, "victim", msg), "status"));
    }

    @Test
    void anAckOfAnotherAppsTaskCountsNothing() {
        long task = broadcastTask(app(), "http://task-cb");
        assertEquals(NOTHING, acks.apply(new AckRecord(app(), "d1", task, NOW, "b1"), NOW).join());
        assertEquals(0, delivered(task));
    }

    @Test
    void aBroadcastAckCountsOncePerDeviceHoweverOftenItIsReplayed() {
        String app = app();
        long task = broadcastTask(app, "http://task-cb");
        AckRecord ack = new AckRecord(app, "d1", task, NOW, "b1");
        AppliedAck counted = new AppliedAck(AppliedAck.Target.TASK, true,
                new ParkedReceipt(app, "http://task-cb", task, true, "d1", "p", NOW));
        AppliedAck again = new AppliedAck(AppliedAck.Target.TASK, false, null);

        assertEquals(counted, acks.apply(ack, NOW).join());
        assertEquals(again, acks.apply(ack, NOW).join(), "the same Kafka record replayed");
        assertEquals(List.of(again, new AppliedAck(AppliedAck.Target.TASK, true,
                new ParkedReceipt(app, "http://task-cb", task, true, "d2", "p", NOW)), again), acks.applyAll(List.of(
                new AckRecord(app, "d1", task, NOW + 9, "b2"), // the same broadcast again (catch-up elsewhere)
                new AckRecord(app, "d2", task, NOW, "b1"),
                new AckRecord(app, "d2", task, NOW, "b1")), NOW).join());
        assertEquals(2, delivered(task));
        long ttl = redis.async().pttl(Keys.taskAckFilter(task)).toCompletableFuture().join();
        assertTrue(ttl > 0, "the ack filter expires with its task, pttl " + ttl);
    }

    private static String parked(String id) {
        return redis.async().hget(Keys.callbackItems(), id).toCompletableFuture().join();
    }

    private static long outboxSize() {
        return redis.async().zcard(Keys.callbacksDue()).toCompletableFuture().join();
    }

    @Test
    void aFirstReceiptIsParkedByTheScriptThatAppliesItsAckInTheFormatJavaReads() {
        String app = app();
        long msg = singlePush(app, "d");
        long task = broadcastTask(app, "http://task-cb");
        long ackedAt = NOW - 1234;

        List<AppliedAck> got = acks.applyAll(List.of(new AckRecord(app, "d", msg, ackedAt, "b1"),
                new AckRecord(app, "d\u00e9vice \u2603", task, ackedAt + 1, "b1")), NOW).join();

        ParkedReceipt message = new ParkedReceipt(app, "http://cb", msg, false, "d", "x", ackedAt);
        ParkedReceipt copy = new ParkedReceipt(app, "http://task-cb", task, true, "d\u00e9vice \u2603", "p", ackedAt + 1);
        assertEquals(message, got.get(0).parked());
        assertEquals(copy, got.get(1).parked());
        // What the script wrote, read back as the outbox reads it: under Java's id, leased until now + lease.
        for (ParkedReceipt p : List.of(message, copy)) {
            assertEquals(p, ParkedReceipt.decode(parked(p.id())));
            assertEquals((double) (NOW + LEASE.toMillis()),
                    redis.async().zscore(Keys.callbacksDue(), p.id()).toCompletableFuture().join());
        }
    }

    @Test
    void aReceiptWithoutACallbackParameterIsParkedWithAnEmptyOne() {
        String app = app();
        new RouteRepository(redis).put(app, "d", new Route("b1", "e1"), NOW).join();
        long msg = ids.incrementAndGet();
        new MessageRepository(redis, POLICY).accept(new NewMessage(msg, app, "d", PayloadKind.DATA, "{}", NOW,
                NOW + 60_000, null, "http://cb", null)).join();
        ParkedReceipt p = acks.apply(new AckRecord(app, "d", msg, NOW, "b1"), NOW).join().parked();
        assertEquals(new ParkedReceipt(app, "http://cb", msg, false, "d", "", NOW), p);
        assertEquals(p, ParkedReceipt.decode(parked(p.id())));
    }

    @Test
    void aFullOutboxFailsTheBatchAndItsReceiptsStayOwedUntilTheAcksAreReadAgain() {
        if (outboxSize() == 0) { // a full outbox needs one receipt at least
            acks.apply(new AckRecord(app(), "d", broadcastTask(app(), "http://other"), NOW, "b1"), NOW).join();
        }
        long held = outboxSize();
        String app = app();
        long msg = singlePush(app, "d");
        long withCallback = broadcastTask(app, "http://task-cb");
        long without = broadcastTask(app, null);
        List<AckRecord> batch = List.of(new AckRecord(app, "d", msg, NOW, "b1"),
                new AckRecord(app, "d1", without, NOW, "b1"),
                new AckRecord(app, "d1", withCallback, NOW, "b1"));
        AckRepository full = new AckRepository(redis, LEASE, (int) held + 1, 100_000); // room for one of the two receipts

        CompletionException e = assertThrows(CompletionException.class, () -> full.applyAll(batch, NOW).join());
        assertTrue(e.getCause() instanceof CallbackOutbox.FullException, e.toString());
        assertEquals(held, outboxSize(), "no receipt of the batch parked");
        assertEquals("delivered", field(Keys.message(app, "d", msg), "status"), "the acks themselves are applied");
        assertEquals(0L, redis.async().zcard(Keys.queue(app, "d")).toCompletableFuture().join());
        assertEquals(1, delivered(withCallback));
        assertEquals(1, delivered(without));

        // Read again once there is room: the owed receipts are parked, nothing is counted twice.
        List<AppliedAck> got = new AckRepository(redis, LEASE, (int) held + 2, 100_000).applyAll(batch, NOW).join();
        assertEquals(List.of(
                new AppliedAck(AppliedAck.Target.MESSAGE, false, new ParkedReceipt(app, "http://cb", msg, false, "d", "x", NOW)),
                new AppliedAck(AppliedAck.Target.TASK, false, null),
                new AppliedAck(AppliedAck.Target.TASK, false,
                        new ParkedReceipt(app, "http://task-cb", withCallback, true, "d1", "p", NOW))), got);
        assertEquals(1, delivered(withCallback));
        assertEquals(1, delivered(without));
        assertEquals(held + 2, outboxSize());
        assertEquals(List.of(new AppliedAck(AppliedAck.Target.MESSAGE, false, null), new AppliedAck(AppliedAck.Target.TASK,
                false, null), new AppliedAck(AppliedAck.Target.TASK, false, null)), acks.applyAll(batch, NOW).join(),
                "parked: owed no more");
    }

    @Test
    void aReplayedAckParksNothingNewWhetherItsReceiptIsStillParkedOrPostedAlready() {
        String app = app();
        long msg = singlePush(app, "d");
        long task = broadcastTask(app, "http://task-cb");
        List<AckRecord> batch = List.of(new AckRecord(app, "d", msg, NOW, "b1"), new AckRecord(app, "d1", task, NOW, "b1"));
        List<AppliedAck> first = acks.applyAll(batch, NOW).join();
        long held = outboxSize();

        List<AppliedAck> replay = acks.applyAll(batch, NOW + 5).join();
        assertTrue(replay.stream().noneMatch(a -> a.counted() || a.parked() != null), replay.toString());
        assertEquals(held, outboxSize(), "still parked: not parked again");
        assertEquals((double) (NOW + LEASE.toMillis()),
                redis.async().zscore(Keys.callbacksDue(), first.get(0).parked().id()).toCompletableFuture().join(),
                "the lease is not renewed by a replay");

        new CallbackOutbox(redis).remove(first.stream().map(a -> a.parked().id()).toList()).join(); // posted
        replay = acks.applyAll(batch, NOW + 9).join();
        assertTrue(replay.stream().noneMatch(a -> a.counted() || a.parked() != null), replay.toString());
        assertEquals(held - 2, outboxSize(), "posted receipts are not parked again");
        assertEquals(1, delivered(task));
    }
}
