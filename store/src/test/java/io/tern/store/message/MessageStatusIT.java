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
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Single-push statuses set at accept and by batched marks, against a real Redis. */
class MessageStatusIT {
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

    private static NewMessage message(String app, String reg) {
        return new NewMessage(ids.incrementAndGet(), app, reg, PayloadKind.DATA, "{\"n\":1}", NOW, NOW + 60_000, null, null, null);
    }

    @Test
    void aMessageToADeviceWithoutARouteIsRecordedOfflineByTheAcceptItself() {
        String app = "app-" + UUID.randomUUID();
        redis.async().set(Keys.device(app, "away"), "1").toCompletableFuture().join();
        NewMessage m = message(app, "away");
        AcceptResult r = messages.accept(m).join();
        assertTrue(r.created());
        assertNull(r.route());
        assertEquals(MessageStatus.OFFLINE, messages.find(m.msgId()).join().status());
    }

    @Test
    void oneCallMarksSeveralMessagesAndNeverMovesOneBack() {
        String app = "app-" + UUID.randomUUID();
        routes.put(app, "d", new Route("b1", "e1"), NOW).join();
        NewMessage a = message(app, "d");
        NewMessage b = message(app, "d");
        NewMessage c = message(app, "d");
        for (NewMessage m : List.of(a, b, c)) {
            assertEquals(new Route("b1", "e1"), messages.accept(m).join().route());
            assertEquals(MessageStatus.ACCEPTED, messages.find(m.msgId()).join().status(), "a routed message waits for the broker");
        }
        assertTrue(messages.advance(app, "d", c.msgId(), MessageStatus.EXPIRED, NOW + 1).join());

        int changed = messages.advanceAll(List.of(new StatusMark(app, "d", a.msgId(), MessageStatus.SENT),
                new StatusMark(app, "d", b.msgId(), MessageStatus.OFFLINE), new StatusMark(app, "d", c.msgId(), MessageStatus.SENT),
                new StatusMark(app, "d", ids.incrementAndGet(), MessageStatus.SENT)), NOW + 2).join();

        assertEquals(2, changed, "c is past sent already; the last message does not exist");
        StoredMessage sa = messages.find(a.msgId()).join();
        assertEquals(MessageStatus.SENT, sa.status());
        assertEquals(NOW + 2, sa.sentAtMillis());
        assertEquals(MessageStatus.OFFLINE, messages.find(b.msgId()).join().status());
        assertEquals(MessageStatus.EXPIRED, messages.find(c.msgId()).join().status());
    }
}
