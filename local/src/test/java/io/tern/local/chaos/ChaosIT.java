package io.tern.local.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.client.TernClient;
import io.tern.devstack.process.ProcessCluster;
import io.tern.devstack.process.RoleProcess;
import io.tern.local.e2e.Devices;
import io.tern.store.topic.Topics;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Every process of a region killed with SIGKILL in the middle of a push stream, one at a time: redis-server
 * (AOF, fsync always), Kafka (own JVM), the dispatcher, a broker of two, a logic node of two, each an OS
 * process of its own ({@link ProcessCluster}). Each run: {@value #RATE} single pushes/s for {@value #SECONDS} s
 * to {@value #DEVICES} SDK devices, {@value #OFFLINE} of them offline until {@link #RETURN_AFTER} after the kill
 * (they connect while the process is down), and one list push to all of them just after the kill; then every
 * accepted message must reach its device within {@link #RECOVERY_BOUND} (none lost, none stranded) and its
 * receipt must be applied (status {@code delivered}) within {@link #RECEIPT_BOUND} after that. Each test prints its row of the
 * table in docs/reliability.md. The fixture is shared: each test leaves every process running again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChaosIT {
    static final String APP = "chaos";
    static final String APP_KEY = "chaos-key";
    static final String APP_SECRET = "chaos-secret";
    static final int DEVICES = 240;
    static final int OFFLINE = 40;
    static final int RATE = 40;
    static final int SECONDS = 12;
    static final Duration KILL_AT = Duration.ofSeconds(4);
    static final Duration GROUP_AT = Duration.ofSeconds(5);
    static final Duration DOWN_FOR = Duration.ofSeconds(5);
    /** Longer than a broker's liveness TTL (10 s): its registry key and routes' liveness expire meanwhile. */
    static final Duration REDIS_DOWN_FOR = Duration.ofSeconds(12);
    /** The offline devices come back this long after the kill: while the process is still down. */
    static final Duration RETURN_AFTER = Duration.ofSeconds(2);
    static final Duration RECOVERY_BOUND = Duration.ofSeconds(60);
    /** Receipts of delivered messages are applied within this (a consumer takes over in seconds). */
    static final Duration RECEIPT_BOUND = Duration.ofSeconds(30);
    static final Duration START = Duration.ofSeconds(120);

    private ProcessCluster cluster;
    private Devices devices;
    private PushStream api;
    private final List<String> names = IntStream.range(0, DEVICES).mapToObj(i -> "dev-" + i).toList();
    private final Map<String, String> regIds = new HashMap<>();
    private final List<String> rows = new ArrayList<>();
    private int run;

    @BeforeAll
    void startRegion() {
        Map<String, String> s = new HashMap<>();
        s.put("logic.apps." + APP + ".key", APP_KEY);
        s.put("logic.apps." + APP + ".secret", APP_SECRET);
        s.put("logic.limits.apps." + APP + ".rate", "1000000");
        s.put("logic.limits.apps." + APP + ".daily-quota", "1000000000");
        s.put("dispatcher.client-keys", APP + "=" + APP + "-client-key");
        Path dir = Path.of("target", "chaos", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))
                .toAbsolutePath();
        cluster = ProcessCluster.start(ProcessCluster.Options.of(dir, 2, 2, s, List.of(Topics.ACKS, Topics.JOBS))
                .withMaxLifetime(Duration.ofMinutes(12)), System.out::println);
        devices = new Devices(new InetSocketAddress("127.0.0.1", cluster.dispatcher().port("http")), APP,
                APP + "-client-key", null);
        devices.startAll(names);
        names.forEach(n -> regIds.put(n, devices.regId(n)));
        api = new PushStream(cluster.logicUrls(), APP, APP_KEY, APP_SECRET);
        api.login();
    }

    @AfterAll
    void stopRegion() {
        System.out.println(Tally.header());
        rows.forEach(System.out::println);
        if (devices != null) {
            devices.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void everyProcessServesAndEveryDeviceIsOnline() {
        // A test that failed half-way may have left its process down: the next one starts from a whole region.
        if (!cluster.redis().isRunning()) {
            cluster.restartRedis();
        }
        if (!cluster.kafka().alive()) {
            cluster.restartKafka();
        }
        List<RoleProcess> roles = new ArrayList<>(cluster.brokers());
        roles.addAll(cluster.logicNodes());
        roles.add(cluster.dispatcher());
        roles.forEach(r -> r.awaitHealthy(START));
        Awaitility.await().atMost(START).until(() -> names.stream().allMatch(this::online));
    }

    @Test
    @Order(1)
    void dispatcherKilledAndRestarted() {
        RoleProcess d = cluster.dispatcher();
        assertNothingLost(run("dispatcher", d::kill, DOWN_FOR, () -> d.restart(START)));
    }

    @Test
    @Order(2)
    void logicNodeKilledWhileTheOtherServesThenRestarted() {
        RoleProcess l1 = cluster.logicNodes().get(0);
        assertNothingLost(run("logic-node", l1::kill, DOWN_FOR, () -> l1.restart(START)));
    }

    @Test
    @Order(3)
    void brokerKilledItsDevicesMoveToTheOther() {
        RoleProcess b1 = cluster.brokers().get(0);
        Tally t = run("broker", b1::kill, DOWN_FOR, null);
        b1.restart(START);
        assertNothingLost(t);
    }

    @Test
    @Order(4)
    void kafkaKilledAndRestarted() {
        assertNothingLost(run("kafka", cluster::killKafka, DOWN_FOR, cluster::restartKafka));
    }

    @Test
    @Order(5)
    void redisKilledAndRestartedOnItsAof() {
        assertNothingLost(run("redis", cluster::killRedis, REDIS_DOWN_FOR, cluster::restartRedis));
    }

    private void assertNothingLost(Tally t) {
        assertAll(
                () -> assertEquals(0, t.lost(), "lost: " + t.row()),
                () -> assertEquals(0, t.stranded(), "stranded: " + t.row()),
                () -> assertEquals(0, t.unacked(), "delivered but not marked delivered within the bound: " + t.row()),
                () -> assertEquals(0, api.gaveUp.get(), "pushes never accepted within 90 s of retrying: " + t.row()),
                // A fault is a 503 (or no answer) the app can retry, never an internal error.
                () -> assertFalse(api.refusals.containsKey("500"), "answered 500 during the fault: " + t.row()),
                () -> assertEquals(0, t.queued(), "still queued although every device is online: " + t.row()));
    }

    /**
     * The stream, the fault at {@link #KILL_AT} (and its repair {@code downFor} later when {@code restart}
     * is given), the group push, the offline devices' return; then every accepted message gets
     * {@link #RECOVERY_BOUND} to arrive, and its receipt {@link #RECEIPT_BOUND} more to be applied.
     */
    private Tally run(String fault, Runnable kill, Duration downFor, Runnable restart) {
        int n = run++;
        api.refusals.clear();
        api.gaveUp.set(0);
        List<String> offline = names.subList((n * OFFLINE) % DEVICES, (n * OFFLINE) % DEVICES + OFFLINE);
        offline.forEach(devices::stop);
        long duplicatesBefore = duplicatesDropped() + Tally.repeats(devices, Set.copyOf(names));

        long start = System.nanoTime();
        long[] killedAt = {Long.MAX_VALUE};
        Thread faults = new Thread(() -> {
            parkUntil(start + KILL_AT.toNanos());
            killedAt[0] = System.nanoTime();
            kill.run();
            System.out.printf("[chaos %s] killed at %.1f s%n", fault, (killedAt[0] - start) / 1e9);
            if (restart != null) {
                parkUntil(killedAt[0] + downFor.toNanos());
                restart.run();
                System.out.printf("[chaos %s] back at %.1f s%n", fault, (System.nanoTime() - start) / 1e9);
            }
        }, "chaos-fault");
        String marker = "group-" + fault + "-" + start;
        List<JsonNode> group = new ArrayList<>();
        Thread groupPush = new Thread(() -> {
            parkUntil(start + GROUP_AT.toNanos());
            api.listPush(names.stream().map(regIds::get).toList(), marker).ifPresent(group::add);
        }, "chaos-group");
        Thread comeBack = new Thread(() -> {
            parkUntil(start + KILL_AT.toNanos() + RETURN_AFTER.toNanos());
            offline.forEach(devices::start);
        }, "chaos-return");
        faults.start();
        groupPush.start();
        comeBack.start();

        SplittableRandom random = new SplittableRandom(n);
        List<CompletableFuture<Optional<PushStream.Accepted>>> pushes = new ArrayList<>();
        for (int i = 0; i < RATE * SECONDS; i++) {
            parkUntil(start + i * 1_000_000_000L / RATE);
            String device = names.get(random.nextInt(DEVICES));
            pushes.add(api.single(device, regIds.get(device), fault + "-" + start + "-" + i, "msg " + i));
        }
        join(faults);
        join(groupPush);
        join(comeBack);
        List<PushStream.Accepted> accepted = pushes.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList();

        Set<String> invalid = new HashSet<>();
        group.forEach(g -> g.path("invalidRegIds").forEach(r -> invalid.add(r.asText())));
        List<String> groupCopies = group.isEmpty() ? List.of()
                : names.stream().filter(d -> !invalid.contains(regIds.get(d))).toList();
        try {
            Awaitility.await().atMost(RECOVERY_BOUND).pollInterval(Duration.ofMillis(250)).until(() ->
                    accepted.stream().allMatch(a -> received(a.device(), a.msgId()))
                            && groupCopies.stream().allMatch(d -> devices.receivedBy(d).stream()
                            .anyMatch(m -> m.payload().contains(marker))));
        } catch (ConditionTimeoutException e) {
            // counted below: what is missing is stranded, queued or lost
        }
        long unacked = unacked(accepted);
        long duplicates = duplicatesDropped() + Tally.repeats(devices, Set.copyOf(names)) - duplicatesBefore;
        Tally t = Tally.of(fault, accepted, marker, groupCopies, devices, this::online,
                Set.copyOf(offline), api, killedAt[0], duplicates, unacked);
        if (group.isEmpty()) {
            System.out.println("[chaos " + fault + "] the group push was never accepted");
        }
        rows.add(t.row());
        System.out.println(Tally.header());
        System.out.println(t.row());
        return t;
    }

    /** Delivered messages whose status is not {@code delivered} (their receipt not applied) after the bound. */
    private long unacked(List<PushStream.Accepted> accepted) {
        Set<Long> pending = new HashSet<>();
        accepted.stream().filter(a -> received(a.device(), a.msgId())).forEach(a -> pending.add(a.msgId()));
        try {
            Awaitility.await().atMost(RECEIPT_BOUND).pollInterval(Duration.ofSeconds(1)).until(() -> {
                pending.removeIf(id -> api.status(id).map("delivered"::equals).orElse(false));
                return pending.isEmpty();
            });
        } catch (ConditionTimeoutException e) {
            // reported in the row
        }
        return pending.size();
    }

    private boolean received(String device, long msgId) {
        return devices.receivedBy(device).stream().anyMatch(m -> m.msgId() == msgId);
    }

    private boolean online(String device) {
        TernClient c = devices.client(device);
        return c != null && c.state() == TernClient.State.CONNECTED;
    }

    private long duplicatesDropped() {
        return names.stream().map(devices::client).filter(c -> c != null).mapToLong(c -> c.stats().duplicatesDropped()).sum();
    }

    private static void parkUntil(long nanoTime) {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    private static void join(Thread t) {
        try {
            t.join(Duration.ofMinutes(3).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
