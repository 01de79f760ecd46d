package io.tern.logic.intake;

import io.tern.devstack.KafkaBroker;
import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.throttle.ThrottleState;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Kafka outage at intake, with a Kafka this test starts and stops: within the permit the direct path keeps
 * serving (it needs no Kafka); beyond it the push is refused 503 {@code buffer_unavailable} with Retry-After, and
 * nothing is recorded for it (never a silent drop, never a push the app was refused but that goes out anyway).
 */
class BufferOutageIT {
    private static final String APP = "outage-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String KEY = "outage-key";
    private static final String SECRET = "outage-secret";
    private static KafkaBroker kafka;
    private static RedisStore redis;
    private static DirectiveRepository directives;
    private static LogicNode node;

    @BeforeAll
    static void start() {
        kafka = KafkaBroker.start(KafkaBroker.Options.defaults());
        kafka.createTopics(Topics.ALL, Topics.COMPACTED);
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
        directives = new DirectiveRepository(redis);
        node = LogicNode.start(LogicConfig.from(Settings.of(Map.of(
                "logic.id", "outage-l1",
                "logic.port", "0",
                "logic.dev-mode", "true",
                "logic.redis-uri", SharedInfra.redis().uri(),
                "logic.kafka-bootstrap", kafka.bootstrapServers(),
                "logic.permit.hold-last", "1h",
                "logic.buffer.send-timeout", "2s",
                "logic.buffer.retry-after", "2s",
                "logic.apps." + APP + ".key", KEY,
                "logic.apps." + APP + ".secret", SECRET))));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        if (redis != null) {
            redis.async().del(Keys.throttleDirective(), Keys.rateControllerAlive()).toCompletableFuture().join();
            redis.close();
        }
    }

    /** Stores a directive with a live controller heartbeat and waits until the node obeys it. */
    private static void permit(IntakeClient c, long perSecond) {
        ThrottleDirective next = directives.load().join().next(ThrottleState.THROTTLED, perSecond,
                ThrottleDirective.BY_SRE, "outage test", System.currentTimeMillis());
        directives.heartbeat(System.currentTimeMillis(), Duration.ofHours(1).toMillis()).join();
        assertTrue(directives.replace(next, "sre", null).join());
        await().atMost(Duration.ofSeconds(30)).until(() -> c.send("GET", "/health", null).body()
                .contains("directive v" + next.version() + " " + perSecond + "/s"));
    }

    @Test
    void withKafkaDownTheDirectPathServesWithinThePermitAndBeyondItThePushIs503WithNothingRecorded() throws Exception {
        IntakeClient c = new IntakeClient(node).login(APP, KEY, SECRET);
        String regId = "d-" + UUID.randomUUID();
        redis.async().set(Keys.device(APP, regId), "1").toCompletableFuture().join();
        permit(c, 1000);

        kafka.stop();

        HttpResponse<String> direct = c.pushSingle(regId, null);
        assertEquals(200, direct.statusCode(), direct.body());
        assertEquals("offline", IntakeClient.field(direct.body(), "status"), "delivered the direct way: queued for "
                + "its device, which has no route");

        permit(c, 0);
        String requestId = "beyond-" + UUID.randomUUID();
        HttpResponse<String> refused = c.pushSingle(regId, requestId);
        assertEquals(503, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("\"code\":\"buffer_unavailable\""), refused.body());
        assertEquals("2", refused.headers().firstValue("Retry-After").orElse(null));

        assertEquals(0L, redis.async().exists(Keys.idempotency(APP, requestId)).toCompletableFuture().join(),
                "nothing recorded for the refused push");
        assertEquals(1L, redis.async().zcard(Keys.queue(APP, regId)).toCompletableFuture().join(),
                "only the direct push is queued for the device");
    }
}
