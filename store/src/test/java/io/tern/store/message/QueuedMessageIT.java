package io.tern.store.message;

import io.tern.store.TestRedis;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Messages accepted beyond the permit: recorded queued, outside the device queue, promoted once by the drain. */
class QueuedMessageIT {
    private static final long NOW = System.currentTimeMillis();
    private static final AtomicLong ids = new AtomicLong(System.nanoTime());
    private static RedisStore redis;
    private static MessageRepository messages;
    private static RouteRepository routes;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(2));
        messages = new MessageRepository(redis, new QueuePolicy(10, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
        routes = new RouteRepository(redis);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static NewMessage message(String app, String reg, String requestId) {
        return new NewMessage(ids.incrementAndGet(), app, reg, PayloadKind.DATA, "{\"n\":1}", NOW, NOW + 60_000,
                requestId, null, null);
    }

    private static String routedDevice(String app) {
        routes.put(app, "d", new Route("b1", "e1"), NOW).join();
        return "d";
    }

    private static long queueSize(String app, String reg) {
        return redis.async().zcard(Keys.queue(app, reg)).toCompletableFuture().join();
    }

    @Test
    void aQueuedMessageIsRecordedButNotInTheDeviceQueue() {
        String app = "app-" + UUID.randomUUID();
        NewMessage m = message(app, routedDevice(app), null);
        AcceptResult r = messages.recordQueued(m).join();
        assertTrue(r.created());
        assertEquals(m.msgId(), r.msgId());
        assertEquals(MessageStatus.QUEUED, messages.find(m.msgId()).join().status());
        assertEquals(0, queueSize(app, "d"), "a reconnect must not deliver it ahead of the permit");
    }

    @Test
    void theDrainsAcceptPromotesItOnceAndASecondPromoteIsARepeat() {
        String app = "app-" + UUID.randomUUID();
        NewMessage m = message(app, routedDevice(app), "req-1");
        messages.recordQueued(m).join();

        AcceptResult first = messages.accept(m).join();
        assertTrue(first.created(), "the queued message is promoted");
        assertEquals(new Route("b1", "e1"), first.route());
        assertEquals(MessageStatus.ACCEPTED, messages.find(m.msgId()).join().status());
        assertEquals(1, queueSize(app, "d"));

        AcceptResult again = messages.accept(m).join();
        assertFalse(again.created(), "a record drained twice is promoted once");
        assertEquals(m.msgId(), again.msgId());
        assertEquals(1, queueSize(app, "d"));
    }

    @Test
    void aMessageDrainedLateIsCheckedADelayAfterItsDrainNotAfterItsCreation() {
        String app = "app-" + UUID.randomUUID();
        MessageRepository checked = new MessageRepository(redis, new QueuePolicy(10, Duration.ofDays(7),
                Duration.ofDays(1), Duration.ofHours(24)), new DeliveryChecks(Duration.ofSeconds(5), 1000));
        NewMessage m = message(app, routedDevice(app), null);
        checked.recordQueued(m).join();
        long drainedAt = NOW + 60_000; // a minute in the buffer
        assertTrue(checked.accept(m, drainedAt).join().created());
        Double due = redis.async().zscore(Keys.redeliveryDue(Keys.redeliveryShard(m.msgId())), Long.toString(m.msgId())).toCompletableFuture().join();
        // Due at creation + 5 s, the sweeper would resend it alongside the drain's own PUSH.
        assertEquals(drainedAt + 5_000, due.longValue());
    }

    @Test
    void aRepeatedRequestIdWhileQueuedAnswersTheFirstMsgId() {
        String app = "app-" + UUID.randomUUID();
        NewMessage first = message(app, routedDevice(app), "req-2");
        NewMessage retry = message(app, "d", "req-2");
        messages.recordQueued(first).join();

        AcceptResult r = messages.recordQueued(retry).join();
        assertFalse(r.created());
        assertEquals(first.msgId(), r.msgId());
        // The retry's own buffer record, drained, is a repeat of the first message: nothing new queued.
        AcceptResult drained = messages.accept(retry).join();
        assertFalse(drained.created());
        assertEquals(first.msgId(), drained.msgId());
    }

    @Test
    void aDrainThatGotThereFirstIsNotTurnedBackToQueued() {
        String app = "app-" + UUID.randomUUID();
        NewMessage m = message(app, routedDevice(app), null);
        assertTrue(messages.accept(m).join().created());
        assertFalse(messages.recordQueued(m).join().created());
        assertEquals(MessageStatus.ACCEPTED, messages.find(m.msgId()).join().status());
    }

    @Test
    void anUnknownDeviceIsRefusedAndNothingRecorded() {
        String app = "app-" + UUID.randomUUID();
        NewMessage m = message(app, "never-seen", null);
        assertTrue(messages.recordQueued(m).join().unknownDevice());
        assertEquals(null, messages.find(m.msgId()).join());
    }

    @Test
    void statusesMoveOnFromQueued() {
        String app = "app-" + UUID.randomUUID();
        NewMessage m = message(app, routedDevice(app), null);
        messages.recordQueued(m).join();
        assertTrue(messages.advance(m.appId(), m.regId(), m.msgId(), MessageStatus.EXPIRED, NOW + 1).join());
        assertEquals(MessageStatus.EXPIRED, messages.find(m.msgId()).join().status());
    }
}
