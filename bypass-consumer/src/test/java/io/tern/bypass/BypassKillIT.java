package io.tern.bypass;

import io.tern.bypass.drain.BufferFixture;
import io.tern.devstack.Ports;
import io.tern.devstack.SharedInfra;
import io.tern.devstack.process.JavaProcess;
import io.tern.pipeline.buffer.BufferedPush;
import io.tern.protocol.frame.PayloadKind;
import io.tern.runtime.config.Settings;
import io.tern.store.Keys;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.message.QueuePolicy;
import io.tern.store.message.StoredMessage;
import io.tern.store.redis.RedisStore;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

import static io.tern.bypass.drain.BufferFixture.AWAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kill -9 of a bypass consumer mid-drain, as a real child JVM running {@link BypassConsumerMain} on the real
 * {@code tern.buffer} and group: another instance handles every record, and what the app sees (each message's
 * status, each device's queue) holds every msgId exactly once.
 */
class BypassKillIT {
    private static final Logger log = LoggerFactory.getLogger(BypassKillIT.class);
    private static final String APP = "app-kill";
    private static final int DEVICES = 20;
    private static final int PER_DEVICE = 20;
    private static final int MESSAGES = DEVICES * PER_DEVICE;

    private static BufferFixture kafka;
    private static RedisStore redis;
    private static MessageRepository messages;

    @BeforeAll
    static void start() {
        kafka = new BufferFixture();
        SharedInfra.kafka().createTopics(Topics.BUFFER, Topics.BUFFER_DEAD_LETTER);
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(5));
        messages = new MessageRepository(redis, new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1),
                Duration.ofHours(24)));
    }

    @AfterAll
    static void stop() {
        kafka.close();
        redis.close();
    }

    /**
     * @param commitInterval how often it commits; the first instance commits nothing before it is killed, so every
     *                       record it handled is handled again by the second
     */
    private static JavaProcess bypass(String id, int port, String commitInterval) {
        Map<String, String> settings = Map.of(
                "bypass.id", id,
                "bypass.dev-mode", "true",
                "bypass.port", Integer.toString(port),
                "bypass.commit-interval", commitInterval,
                "bypass.redis-uri", SharedInfra.redis().uri(),
                "bypass.kafka-bootstrap", BufferFixture.bootstrap(),
                "bypass.session-timeout", "6s",
                // No controller runs: the fallback rate paces the drain (400 records take about 5 s at 80/s).
                "bypass.permit.fallback-rate", "80");
        Map<String, String> env = new HashMap<>();
        settings.forEach((k, v) -> env.put(Settings.keyToEnv(k), v));
        return JavaProcess.start(new JavaProcess.Spec("bypass " + id, List.of("-Xmx192m"),
                BypassConsumerMain.class.getName(), List.of(), env, Path.of("target", "bypass-kill-it", id + ".log"),
                Duration.ofMinutes(5)));
    }

    private static HttpResponse<String> get(int port, String path) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sum of a Prometheus series on an admin port whose labels include {@code label}. */
    private static double metric(int port, String name, String label) {
        try {
            HttpResponse<String> r = get(port, "/metrics");
            return r.body().lines().filter(l -> (l.startsWith(name + "{") || l.startsWith(name + " ")) && l.contains(label))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Messages no longer queued: taken from the buffer and recorded downstream. */
    private static long drained(List<Long> ids) {
        List<CompletableFuture<StoredMessage>> all = ids.stream().map(messages::find).toList();
        return all.stream().map(CompletableFuture::join)
                .filter(m -> m != null && m.status() != MessageStatus.QUEUED).count();
    }

    @Test
    void aKilledConsumerMidDrainLosesNothingAndTheAppSeesNoDuplicate() {
        long now = System.currentTimeMillis();
        long base = now * 1000; // unique msgIds per run
        List<Long> ids = new ArrayList<>();
        for (int d = 0; d < DEVICES; d++) {
            String regId = "dev-kill-" + d;
            // The device connected once (the store knows it); it is offline now, so each push waits in its queue.
            redis.async().set(Keys.device(APP, regId), Long.toString(now)).toCompletableFuture().join();
            redis.async().del(Keys.queue(APP, regId)).toCompletableFuture().join();
        }
        for (int i = 0; i < MESSAGES; i++) {
            long msgId = base + i;
            String regId = "dev-kill-" + (i % DEVICES);
            BufferedPush p = new BufferedPush(BufferedPush.Kind.SINGLE, APP, msgId, regId, PayloadKind.DATA,
                    "{\"n\":" + i + "}", now, now + Duration.ofHours(1).toMillis(), null, null, null, 0, null, 1);
            // What the intake does beyond the permit: record it queued, then buffer it.
            messages.recordQueued(new NewMessage(msgId, APP, regId, PayloadKind.DATA, p.payload(), now,
                    p.expiresAtMillis(), null, null, null)).join();
            kafka.publish(Topics.BUFFER, null, p);
            ids.add(msgId);
        }

        JavaProcess a = bypass("bp-kill-a", 0, "5m");
        try (a) {
            await().atMost(AWAIT).until(() -> drained(ids) >= MESSAGES / 4);
            a.kill();
            assertFalse(a.alive());
        }
        long atKill = drained(ids);
        log.info("killed bp-kill-a with {} of {} messages drained", atKill, MESSAGES);
        assertTrue(atKill < MESSAGES, "killed mid-drain, not after it");

        int portB = Ports.free();
        try (JavaProcess b = bypass("bp-kill-b", portB, "1s")) {
            // The killed member's partitions come free after its session timeout (6 s).
            await().atMost(Duration.ofSeconds(120)).until(() -> drained(ids) == MESSAGES);
            for (int d = 0; d < DEVICES; d++) {
                String regId = "dev-kill-" + d;
                Set<Long> expected = new TreeSet<>();
                for (int i = d; i < MESSAGES; i += DEVICES) {
                    expected.add(base + i);
                }
                List<Long> queued = redis.async().zrange(Keys.queue(APP, regId), 0, -1).toCompletableFuture().join()
                        .stream().map(Long::parseLong).toList();
                assertEquals(PER_DEVICE, queued.size(), regId + " holds each of its messages once: " + queued);
                assertEquals(expected, new TreeSet<>(queued), regId + " holds exactly its messages");
            }
            for (long id : ids) {
                StoredMessage m = messages.find(id).join();
                assertEquals(MessageStatus.OFFLINE, m.status(), "message " + id + " recorded once, its device offline");
            }
            // The killed instance committed nothing: the second handled again each record it had handled, and the
            // store recognised every one of them as a repeat of its msgId (nothing queued or sent twice, above).
            double repeats = metric(portB, "tern_push_single_total", "outcome=\"duplicate\"");
            log.info("bp-kill-b handled {} records again as repeats of their msgId", (long) repeats);
            assertTrue(repeats >= atKill, "every record drained before the kill came again: " + repeats + " < " + atKill);
            assertEquals(MESSAGES, metric(portB, "tern_bypass_drained_total", ""), "the second drained the whole buffer");
            HttpResponse<String> health = get(portB, "/health");
            assertEquals(200, health.statusCode(), health.body());
            assertTrue(health.body().contains("\"redis\":\"UP\"") && health.body().contains("\"kafka-consuming\":\"UP\""),
                    health.body());
        }
    }
}
