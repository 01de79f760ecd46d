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
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batched status marks against a real Redis. */
class StatusMarksIT {
    private static final AtomicLong ids = new AtomicLong(System.nanoTime());
    private static RedisStore redis;
    private static MessageRepository messages;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(2));
        messages = new MessageRepository(redis, new QueuePolicy(1000, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static List<Long> accepted(String app, int n) {
        long now = System.currentTimeMillis();
        new RouteRepository(redis).put(app, "d", new Route("b1", "e1"), now).join();
        redis.async().set(Keys.device(app, "d"), "1").toCompletableFuture().join();
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long id = ids.incrementAndGet();
            messages.accept(new NewMessage(id, app, "d", PayloadKind.DATA, "{}", now, now + 60_000, null, null, null)).join();
            out.add(id);
        }
        return out;
    }

    @Test
    void aBurstOfMarksTakesFewRedisCallsAndEachIsRecordedBeforeItsFutureCompletes() {
        String app = "app-" + UUID.randomUUID();
        List<Long> msgs = accepted(app, 500);
        StatusMarks marks = new StatusMarks(messages, 64, System::currentTimeMillis);
        List<CompletableFuture<MessageStatus>> seen = new ArrayList<>();
        for (long id : msgs) {
            seen.add(marks.mark(app, "d", id, MessageStatus.SENT).thenCompose(x -> messages.find(id)).thenApply(m -> m.status()));
        }
        for (CompletableFuture<MessageStatus> s : seen) {
            assertEquals(MessageStatus.SENT, s.join());
        }
        assertTrue(marks.batchesSent() >= 500 / 64, "no batch over its bound: " + marks.batchesSent());
        assertTrue(marks.batchesSent() < 500, "marks that arrived while a batch was in flight went together: "
                + marks.batchesSent());
    }

    @Test
    void aLoneMarkGoesAtOnce() {
        String app = "app-" + UUID.randomUUID();
        long id = accepted(app, 1).get(0);
        StatusMarks marks = new StatusMarks(messages, 64, System::currentTimeMillis);
        marks.mark(app, "d", id, MessageStatus.OFFLINE).join();
        assertEquals(1, marks.batchesSent());
        assertEquals(MessageStatus.OFFLINE, messages.find(id).join().status());
    }
}
