package io.tern.store;

import io.tern.protocol.frame.PayloadKind;
import io.tern.store.message.AcceptResult;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.message.PendingMessage;
import io.tern.store.message.QueuePolicy;
import io.tern.store.message.StoredMessage;
import io.tern.store.receipt.AckRepository;
import io.tern.store.receipt.AppliedAck;
import io.tern.store.redis.RedisStore;
import io.tern.store.topic.AckRecord;
import io.tern.store.route.DeviceRoute;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The key schema's scripts against a real Redis. Each test uses its own appId. */
class StoreIT {
    private static RedisStore redis;
    private static RouteRepository routes;
    private static MessageRepository messages;
    private static AckRepository acks;
    private static final AtomicLong ids = new AtomicLong(System.nanoTime());
    private static final long NOW = System.currentTimeMillis();

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(2));
        routes = new RouteRepository(redis);
        messages = new MessageRepository(redis, new QueuePolicy(3, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
        acks = new AckRepository(redis, Duration.ofSeconds(30), 1_000_000, 100_000);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static String app() {
        return "app-" + UUID.randomUUID();
    }

    private static NewMessage message(String app, String reg, long ttlMillis, String requestId) {
        return new NewMessage(ids.incrementAndGet(), app, reg, PayloadKind.DATA, "{\"n\":1}", NOW, NOW + ttlMillis, requestId, null, null);
    }

    @Test
    void anOldConnectionsCloseNeverDeletesTheNewerRoute() {
        String app = app();
        Route first = new Route("b1", "1.1");
        Route second = new Route("b2", "2.1");
        assertNull(routes.put(app, "d", first, NOW).join());
        assertEquals(first, routes.put(app, "d", second, NOW).join());
        assertFalse(routes.deleteIfCurrent(app, "d", first).join(), "stale epoch must not delete");
        assertEquals(second, routes.get(app, "d").join());
        assertTrue(routes.deleteIfCurrent(app, "d", second).join());
        assertNull(routes.get(app, "d").join());
    }

    @Test
    void routesAndKnownnessOfManyDevicesComeBackInOneCallInOrder() {
        String app = app();
        routes.put(app, "a", new Route("b1", "e1"), NOW).join();
        routes.put(app, "c", new Route("b2", "e2"), NOW).join();
        routes.put(app, "gone", new Route("b2", "e3"), NOW).join();
        routes.deleteIfCurrent(app, "gone", new Route("b2", "e3")).join();
        List<DeviceRoute> got = routes.lookup(app, List.of("a", "never", "c", "gone")).join();
        assertEquals(new DeviceRoute("a", true, new Route("b1", "e1")), got.get(0));
        assertEquals(new DeviceRoute("never", false, null), got.get(1));
        assertEquals(new DeviceRoute("c", true, new Route("b2", "e2")), got.get(2));
        assertEquals(new DeviceRoute("gone", true, null), got.get(3), "known but offline");
    }

    @Test
    void aDeviceThatNeverConnectedIsRefusedAndNothingIsRecorded() {
        String app = app();
        NewMessage m = message(app, "ghost", 60_000, null);
        assertTrue(messages.accept(m).join().unknownDevice());
        assertNull(messages.find(m.msgId()).join());
    }

    @Test
    void acceptRecordsQueuesAndReturnsTheRouteInOneStep() {
        String app = app();
        Route r = new Route("b1", "e1");
        routes.put(app, "d", r, NOW).join();
        NewMessage m = message(app, "d", 60_000, null);
        AcceptResult res = messages.accept(m).join();
        assertTrue(res.created());
        assertEquals(m.msgId(), res.msgId());
        assertEquals(r, res.route());
        StoredMessage stored = messages.find(m.msgId()).join();
        assertEquals(MessageStatus.ACCEPTED, stored.status());
        assertEquals(List.of(m.msgId()), messages.pending(app, "d", NOW, 10).join().stream().map(PendingMessage::msgId).toList());
    }

    @Test
    void aRepeatedRequestIdReturnsTheFirstMessageAndQueuesNothingNew() {
        String app = app();
        routes.put(app, "d", new Route("b1", "e1"), NOW).join();
        NewMessage first = message(app, "d", 60_000, "req-1");
        NewMessage again = message(app, "d", 60_000, "req-1");
        assertTrue(messages.accept(first).join().created());
        AcceptResult dup = messages.accept(again).join();
        assertFalse(dup.created());
        assertEquals(first.msgId(), dup.msgId());
        assertNull(messages.find(again.msgId()).join());
        assertEquals(1, messages.pending(app, "d", NOW, 10).join().size());
    }

    @Test
    void statusOnlyMovesForwardAndDeliveredLeavesTheQueue() {
        String app = app();
        routes.put(app, "d", new Route("b1", "e1"), NOW).join();
        NewMessage m = message(app, "d", 60_000, null);
        messages.accept(m).join();
        AppliedAck first = acks.apply(new AckRecord(app, "d", m.msgId(), NOW + 5, "b1"), NOW + 5).join();
        assertEquals(new AppliedAck(AppliedAck.Target.MESSAGE, true, null), first);
        assertFalse(acks.apply(new AckRecord(app, "d", m.msgId(), NOW + 7, "b1"), NOW + 7).join().counted(),
                "a repeated ack is not a second receipt");
        assertFalse(messages.advance(app, "d", m.msgId(), MessageStatus.SENT, NOW + 6).join(), "late 'sent' is ignored");
        StoredMessage s = messages.find(m.msgId()).join();
        assertEquals(MessageStatus.DELIVERED, s.status());
        assertEquals(NOW + 5, s.deliveredAtMillis());
        assertTrue(messages.pending(app, "d", NOW, 10).join().isEmpty());
    }

    @Test
    void pendingSkipsAndExpiresMessagesPastTheirTtl() {
        String app = app();
        routes.put(app, "d", new Route("b1", "e1"), NOW).join();
        NewMessage shortLived = message(app, "d", 1_000, null);
        NewMessage longLived = message(app, "d", 60_000, null);
        messages.accept(shortLived).join();
        messages.accept(longLived).join();
        List<PendingMessage> later = messages.pending(app, "d", NOW + 2_000, 10).join();
        assertEquals(List.of(longLived.msgId()), later.stream().map(PendingMessage::msgId).toList());
        assertEquals(MessageStatus.EXPIRED, messages.find(shortLived.msgId()).join().status());
    }

    @Test
    void aFullQueueEvictsItsOldestAndMarksThemExpired() {
        String app = app();
        routes.put(app, "d", new Route("b1", "e1"), NOW).join();
        NewMessage[] m = new NewMessage[4];
        for (int i = 0; i < 4; i++) {
            m[i] = new NewMessage(ids.incrementAndGet(), app, "d", PayloadKind.DATA, "{}", NOW + i, NOW + 60_000, null, null, null);
            messages.accept(m[i]).join();
        }
        List<Long> queued = messages.pending(app, "d", NOW, 10).join().stream().map(PendingMessage::msgId).toList();
        assertEquals(List.of(m[1].msgId(), m[2].msgId(), m[3].msgId()), queued, "queue bound 3, oldest first");
        assertEquals(MessageStatus.EXPIRED, messages.find(m[0].msgId()).join().status());
    }
}
