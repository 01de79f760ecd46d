package io.tern.diskkv;

import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.devstack.Ports;
import io.tern.devstack.RedisServer;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.buffer.BufferConfig;
import io.tern.pipeline.buffer.BufferProducer;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.route.Route;
import io.tern.store.route.RouteChange;
import io.tern.store.task.TaskBody;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.tern.diskkv.BackupFixture.AWAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backup against the real shared Kafka and the disk KV's stand-in (redis-server, AOF always): bodies become
 * readable soon after their task is created, route changes land in order, and a disk KV that is down holds the
 * commits back until it returns.
 */
class DiskKvBackupIT {
    private static final Logger log = LoggerFactory.getLogger(DiskKvBackupIT.class);

    private static DiskKv diskKv;

    @BeforeAll
    static void connect() {
        diskKv = DiskKv.connect(SharedInfra.diskKv().uri(), Duration.ofSeconds(5));
    }

    @AfterAll
    static void disconnect() {
        diskKv.close();
    }

    /**
     * Bodies produced as the logic node produces them ({@link BufferProducer#body}, to the real {@code tern.bodies})
     * at a steady rate well above the load tester's task rates: each one is readable from the disk KV, and the
     * time from its send to readable is printed with the backup's own lag timer (the target: p99 ≤ 1 s).
     */
    @Test
    void aBodyIsReadableFromTheDiskKvSoonAfterItsTaskIsCreated() {
        int rate = 200;
        int seconds = 10;
        int count = rate * seconds;
        SharedInfra.kafka().createTopics(Topics.BODIES);
        try (BackupFixture f = new BackupFixture("latency");
             DiskKvBackup backup = DiskKvBackup.start(f.config(SharedInfra.diskKv().uri(),
                     Map.of("backup.bodies-topic", Topics.BODIES)));
             BufferProducer logic = new BufferProducer(BackupFixture.bootstrap(), BufferConfig.defaults(), "logic it",
                     new SimpleMeterRegistry())) {
            await().atMost(AWAIT).until(backup::assigned);
            long base = System.currentTimeMillis() * 1000;
            // Warm-up, as the load tester's: the producer's first send fetches metadata and opens connections, the
            // consumer's first fetch too (that cost 1.1 s on a loaded machine); not counted below.
            int warm = 20;
            for (int i = 0; i < warm; i++) {
                logic.body(BackupFixture.body(base - 1 - i, System.currentTimeMillis()));
            }
            await().atMost(AWAIT).until(() -> diskKv.body(base - warm).join() != null
                    && diskKv.body(base - 1).join() != null);
            long[] sentAt = new long[count];
            long[] readableAfter = new long[count];
            Arrays.fill(readableAfter, -1);
            List<Integer> pending = new ArrayList<>();
            long start = System.nanoTime();
            int produced = 0;
            long deadline = start + TimeUnit.SECONDS.toNanos(seconds) + AWAIT.toNanos();
            while ((produced < count || !pending.isEmpty()) && System.nanoTime() < deadline) {
                long now = System.nanoTime();
                while (produced < count && now - start >= produced * 1_000_000_000L / rate) {
                    TaskBody body = BackupFixture.body(base + produced, System.currentTimeMillis());
                    sentAt[produced] = System.nanoTime();
                    logic.body(body);
                    pending.add(produced++);
                }
                List<Integer> ids = List.copyOf(pending);
                List<CompletableFuture<String>> reads = ids.stream().map(i -> diskKv.body(base + i)).toList();
                for (int k = 0; k < ids.size(); k++) {
                    if (reads.get(k).join() != null) {
                        int i = ids.get(k);
                        readableAfter[i] = System.nanoTime() - sentAt[i];
                        pending.remove(Integer.valueOf(i));
                    }
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // poll pace, not a wait for a result
            }
            assertEquals(List.of(), pending, "bodies never readable from the disk KV");
            long[] ms = Arrays.stream(readableAfter).map(n -> n / 1_000_000).sorted().toArray();
            HistogramSnapshot timer = backup.lag(Topics.BODIES).takeSnapshot();
            String figures = String.format("%d bodies at %d/s: send to readable p50 %d ms, p99 %d ms, max %d ms; "
                            + "backup lag timer (record timestamp to write, with 20 warm-up bodies) p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                    count, rate, ms[count / 2], ms[(int) Math.ceil(count * 0.99) - 1], ms[count - 1],
                    percentile(timer, 0.5), percentile(timer, 0.99), timer.max(TimeUnit.MILLISECONDS));
            // Where the tail lies: the slowest body of each second of the run.
            StringBuilder perSecond = new StringBuilder();
            for (int sec = 0; sec < seconds; sec++) {
                long worst = 0;
                for (int i = sec * rate; i < (sec + 1) * rate; i++) {
                    worst = Math.max(worst, readableAfter[i] / 1_000_000);
                }
                perSecond.append(sec == 0 ? "" : " ").append(worst);
            }
            figures += "; slowest per second of the run (ms): " + perSecond + "; load average "
                    + java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            log.info("MEASURED {}", figures);
            System.out.println("MEASURED " + figures);
            assertEquals(count + warm, timer.count(), "every body written once");
        }
    }

    private static double percentile(HistogramSnapshot s, double p) {
        for (ValueAtPercentile v : s.percentileValues()) {
            if (v.percentile() == p) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        throw new AssertionError("no p" + p + " in " + s);
    }

    /**
     * Connect A, connect B, then the late disconnect of A (its broker noticed it only after B connected): B stays.
     * Another device connects and disconnects: gone. All in one batch, so the per-device order within a batch is
     * what is tested; the group's commits reaching the end say every change was applied.
     */
    @Test
    void routeChangesAreAppliedInOrderAndALateDisconnectKeepsTheNewerRoute() throws Exception {
        try (BackupFixture f = new BackupFixture("routes")) {
            String app = "app-routes-" + System.nanoTime();
            Route a = new Route("b1", "e1");
            Route b = new Route("b2", "e2");
            long t = System.currentTimeMillis();
            List<RouteChange> changes = new ArrayList<>();
            for (int d = 0; d < 50; d++) {
                changes.add(RouteChange.connected(app, "moved-" + d, a, t));
                changes.add(RouteChange.connected(app, "moved-" + d, b, t + 1));
                changes.add(RouteChange.disconnected(app, "moved-" + d, a, t + 2));
                changes.add(RouteChange.connected(app, "left-" + d, a, t));
                changes.add(RouteChange.disconnected(app, "left-" + d, a, t + 1));
            }
            for (RouteChange c : changes) {
                f.send(f.routes, c.key(), c.encode());
            }
            long end = f.end(f.routes);
            assertEquals(changes.size(), end);
            try (DiskKvBackup backup = DiskKvBackup.start(f.config(SharedInfra.diskKv().uri(), Map.of()))) {
                await().atMost(AWAIT).until(() -> f.committed(f.routes) == end);
                // What an SRE watches: the lag timer and the records behind, on the admin port.
                await().atMost(AWAIT).until(() -> backup.behind(f.routes) == 0);
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + backup.address().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                List<String> lines = metrics.lines().toList();
                assertTrue(lines.stream().anyMatch(l -> l.startsWith("tern_backup_lag_seconds_count{")
                        && l.contains("topic=\"" + f.routes + "\"") && l.endsWith(" " + changes.size())), metrics);
                assertTrue(lines.stream().anyMatch(l -> l.startsWith("tern_backup_lag_seconds_bucket{")
                        && l.contains("topic=\"" + f.routes + "\"")), metrics);
                assertTrue(lines.stream().anyMatch(l -> l.startsWith("tern_backup_lag_records{")
                        && l.contains("topic=\"" + f.routes + "\"") && l.endsWith(" 0.0")), metrics);
                assertTrue(lines.stream().anyMatch(l -> l.startsWith("tern_backup_routes_total{")
                        && l.contains("outcome=\"newer-kept\"") && l.endsWith(" 50.0")), metrics);
            }
            for (int d = 0; d < 50; d++) {
                assertEquals(b, diskKv.route(app, "moved-" + d).join(), "moved-" + d);
                assertNull(diskKv.route(app, "left-" + d).join(), "left-" + d);
            }
        }
    }

    /**
     * The disk KV stops (clean stop: the port refuses): the backup commits nothing, dead-letters nothing, and the
     * lag in records grows with what is produced meanwhile; once the disk KV is back the backup catches up, every
     * body readable and nothing behind.
     */
    @Test
    void aDiskKvThatIsDownHoldsTheCommitsBackAndTheBackupCatchesUpWhenItReturns() {
        try (RedisServer own = RedisServer.start(RedisServer.Options.defaults().withPort(Ports.free())
                .withAppendOnly(true));
             BackupFixture f = new BackupFixture("down");
             DiskKv reader = DiskKv.connect(own.uri(), Duration.ofSeconds(5));
             DiskKvBackup backup = DiskKvBackup.start(f.config(own.uri(), Map.of("backup.disk-kv-timeout", "500ms",
                     "backup.batch-timeout", "2s")))) {
            long base = System.currentTimeMillis() * 1000;
            long now = System.currentTimeMillis();
            for (int i = 0; i < 10; i++) {
                f.send(f.bodies, Long.toString(base + i), json(BackupFixture.body(base + i, now)));
            }
            await().atMost(AWAIT).until(() -> f.committed(f.bodies) == 10);
            assertTrue(reader.body(base + 9).join() != null);

            own.stop();
            int during = 40;
            for (int i = 10; i < 10 + during; i++) {
                f.send(f.bodies, Long.toString(base + i), json(BackupFixture.body(base + i, now)));
            }
            await().atMost(AWAIT).until(() -> backup.behind(f.bodies) == during);
            // Let several retries and backoffs pass with the disk KV still away: still nothing committed.
            double restarts = restarts(backup, f.bodies);
            await().atMost(AWAIT).until(() -> restarts(backup, f.bodies) >= restarts + 2);
            assertEquals(10, f.committed(f.bodies), "committed while the disk KV was down");
            assertEquals(during, backup.behind(f.bodies));
            assertEquals(0, f.end(f.bodies + ".dlq"), "dead-lettered while the disk KV was down");

            own.restart();
            await().atMost(AWAIT).until(() -> f.committed(f.bodies) == 10 + during && backup.behind(f.bodies) == 0);
            for (int i = 0; i < 10 + during; i++) {
                assertTrue(reader.body(base + i).join() != null, "body " + i + " missing after catching up");
            }
        }
    }

    /**
     * A record that is not a TaskBody, between two good ones: after its attempts it goes to the dead-letter topic,
     * the good ones are written, and the consumer commits past all three (the bad record blocks nothing).
     */
    @Test
    void anUnreadableBodyGoesToTheDeadLetterTopicAndBlocksNothing() {
        try (BackupFixture f = new BackupFixture("dlq");
             DiskKvBackup backup = DiskKvBackup.start(f.config(SharedInfra.diskKv().uri(),
                     Map.of("backup.consumer.retry-pause", "50ms")))) {
            long base = System.currentTimeMillis() * 1000;
            long now = System.currentTimeMillis();
            f.send(f.bodies, Long.toString(base), json(BackupFixture.body(base, now)));
            f.send(f.bodies, "garbage", "{not json".getBytes(StandardCharsets.UTF_8));
            f.send(f.bodies, Long.toString(base + 1), json(BackupFixture.body(base + 1, now)));
            long end = f.end(f.bodies);
            await().atMost(AWAIT).until(() -> f.committed(f.bodies) == end);
            assertEquals(1, f.end(f.bodies + ".dlq"));
            assertTrue(diskKv.body(base).join() != null);
            assertTrue(diskKv.body(base + 1).join() != null);
            assertEquals(1.0, backup.registry().find("tern.consumer.dead.lettered").tag("consumer", f.bodies)
                    .counter().count());
        }
    }

    private static double restarts(DiskKvBackup backup, String topic) {
        return backup.registry().find("tern.consumer.restarts").tag("consumer", topic).counter().count();
    }

    static byte[] json(TaskBody body) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(body)
                    .getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
