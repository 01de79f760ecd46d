package io.tern.local.process;

import io.netty.channel.EventLoopGroup;
import io.tern.client.CredentialStore;
import io.tern.client.PushListener;
import io.tern.client.PushMessage;
import io.tern.client.TernClient;
import io.tern.devstack.process.JavaProcess;
import io.tern.devstack.process.ProcessCluster;
import io.tern.devstack.process.RoleProcess;
import io.tern.protocol.frame.ReasonCode;
import io.tern.runtime.config.Settings;
import io.tern.runtime.net.Transports;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every role as the process a deployment runs: {@code bin/tern-<role>} on the role's own built artefact
 * ({@code <role>/target/classes} + {@code target/lib}, from {@code mvn package}), configured by environment and
 * {@code --config} file ({@link ProcessCluster#withArtefacts}), against devstack's Redis and Kafka processes.
 * Each answers /health; a bad setting ends a role at once with status 2 and one line naming the key; a broker
 * stopped with SIGTERM sends its devices to its region's other broker with paced REDIRECTs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RoleProcessesIT {
    private static final String APP = "artefacts";
    /** Slow enough that the drain of a dozen devices visibly takes time; the default is 1000/s. */
    private static final int REDIRECT_RATE = 10;
    private static final int DEVICES = 16;

    private final Path repository = Path.of(System.getProperty("basedir", "")).toAbsolutePath().getParent();
    private Path dir;
    private ProcessCluster cluster;

    @BeforeAll
    void startEveryRoleFromItsArtefact() {
        dir = Path.of("target", "role-processes", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))
                .toAbsolutePath();
        Map<String, String> settings = Map.of(
                "dispatcher.client-keys", APP + "=" + APP + "-client-key",
                "broker.shutdown-redirect-rate", Integer.toString(REDIRECT_RATE));
        List<String> topics = new ArrayList<>(Topics.ALL);
        topics.addAll(Topics.COMPACTED);
        // Two brokers (the drain needs a peer), one of every other role.
        cluster = ProcessCluster.start(ProcessCluster.Options.of(dir, 2, 1, settings, topics)
                .withRegions(List.of("north"), 1).withThrottling(1, 1).withCompactedTopics(Topics.COMPACTED)
                .withDiskKvBackups(1).withMaxLifetime(Duration.ofMinutes(5)).withArtefacts(repository), System.out::println);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void everyRoleRunsFromItsOwnArtefactAndAnswersHealth() {
        Map<String, RoleProcess> byModule = new LinkedHashMap<>();
        byModule.put("broker", cluster.brokers().get(0));
        byModule.put("dispatcher", cluster.dispatcher());
        byModule.put("logic-node", cluster.logicNodes().get(0));
        byModule.put("global-scheduler", cluster.schedulers().get(0));
        byModule.put("rate-controller", cluster.rateControllers().get(0));
        byModule.put("bypass-consumer", cluster.bypassConsumers().get(0));
        byModule.put("disk-kv-backup", cluster.diskKvBackups().get(0));
        byModule.forEach((module, role) -> {
            assertTrue(role.healthy(), module + " answers /health with 200");
            assertEquals(repository.resolve("bin/tern-" + module), role.process().spec().launcher());
            // The JVM the script exec'd: the role's own classpath, not this test's (its jar where a class data
            // sharing archive was trained: ClassDataSharingIT).
            String commandLine = ProcessHandle.of(role.pid()).flatMap(h -> h.info().commandLine()).orElse("");
            Path target = repository.resolve(module).resolve("target");
            assertTrue(commandLine.contains(target.resolve("classes") + ":")
                            || commandLine.contains(target.resolve(module + "-").toString()),
                    module + " runs on " + module + "/target/classes or its jar: " + commandLine);
        });
    }

    @Test
    @Order(2)
    void aBadSettingEndsEveryRoleAtOnceWithStatusTwoAndALineNamingTheKey() {
        Map<String, String> badPortKeys = new LinkedHashMap<>();
        badPortKeys.put("broker", "broker.tcp-port");
        badPortKeys.put("dispatcher", "dispatcher.port");
        badPortKeys.put("logic-node", "logic.port");
        badPortKeys.put("global-scheduler", "scheduler.port");
        badPortKeys.put("rate-controller", "ratecontrol.port");
        badPortKeys.put("bypass-consumer", "bypass.port");
        badPortKeys.put("disk-kv-backup", "backup.port");
        Map<String, JavaProcess> started = new LinkedHashMap<>();
        badPortKeys.forEach((module, key) -> started.put(module, JavaProcess.start(new JavaProcess.Spec("bad-" + module,
                ProcessCluster.Options.SMALL_JVM, null, List.of(), Map.of(Settings.keyToEnv(key), "eighty"),
                dir.resolve("bad-" + module + ".log"), Duration.ofMinutes(1))
                .withLauncher(repository.resolve("bin/tern-" + module)))));
        started.forEach((module, p) -> {
            OptionalInt status = p.awaitExit(Duration.ofSeconds(30));
            String key = badPortKeys.get(module);
            assertEquals(OptionalInt.of(2), status, module + " exits 2; it wrote: " + p.output());
            List<String> lines = p.output().lines().filter(l -> l.contains(key)).toList();
            assertEquals(1, lines.size(), module + " names " + key + " once: " + p.output());
            assertTrue(lines.get(0).contains("invalid configuration") && lines.get(0).contains("'eighty'"), lines.get(0));
        });
    }

    @Test
    @Order(3)
    void aBrokerStoppedWithSigtermRedirectsItsDevicesToItsPeerAtThePacedRate() throws Exception {
        EventLoopGroup group = Transports.group(1, "artefact-devices");
        Map<String, String> brokerOf = new ConcurrentHashMap<>();
        Map<String, Long> redirectedAt = new ConcurrentHashMap<>();
        Map<String, ReasonCode> endedWith = new ConcurrentHashMap<>();
        Map<String, TernClient> clients = new LinkedHashMap<>();
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI dispatcher = URI.create("http://127.0.0.1:" + cluster.dispatcher().port("http"));
            for (String name : IntStream.range(0, DEVICES).mapToObj(i -> "device-" + i).toList()) {
                TernClient c = TernClient.builder().dispatcher(dispatcher).appId(APP).clientKey(APP + "-client-key")
                        .credentialStore(CredentialStore.inMemory()).eventLoopGroup(group).httpClient(http)
                        .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(2))
                        .listener(new PushListener() {
                            @Override
                            public void onMessage(PushMessage message) {
                            }

                            @Override
                            public void onConnected(String broker) {
                                brokerOf.put(name, broker);
                            }

                            @Override
                            public void onDisconnected(ReasonCode reason, String detail) {
                                endedWith.putIfAbsent(name, reason == null ? ReasonCode.INTERNAL_ERROR : reason);
                                redirectedAt.putIfAbsent(name, System.nanoTime());
                            }
                        }).build();
                clients.put(name, c);
                c.start();
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> clients.values().stream().allMatch(c -> c.state() == TernClient.State.CONNECTED));

            // Stop the broker holding more devices; the other is its region's peer.
            RoleProcess b1 = cluster.brokers().get(0);
            RoleProcess b2 = cluster.brokers().get(1);
            long onB1 = brokerOf.values().stream().filter(b -> b.endsWith(":" + b1.port("tcp"))).count();
            RoleProcess stopping = onB1 * 2 >= DEVICES ? b1 : b2;
            String peerPort = ":" + (stopping == b1 ? b2 : b1).port("tcp");
            List<String> held = brokerOf.entrySet().stream()
                    .filter(e -> e.getValue().endsWith(":" + stopping.port("tcp"))).map(Map.Entry::getKey).toList();
            assertTrue(held.size() * 2 >= DEVICES, "the stopped broker holds half the devices or more: " + brokerOf);
            endedWith.clear();
            redirectedAt.clear();

            stopping.process().stop(Duration.ofSeconds(30));

            await().atMost(Duration.ofSeconds(30)).until(() -> held.stream().allMatch(n -> brokerOf.get(n).endsWith(peerPort)
                    && clients.get(n).state() == TernClient.State.CONNECTED));
            for (String n : held) {
                assertEquals(ReasonCode.SERVER_SHUTTING_DOWN, endedWith.get(n), n + " was told the broker is stopping");
            }
            // Paced: the n-th redirect leaves n / rate after the first, so the last leaves (held - 1) / rate later.
            // Half of that is asked for: on a loaded machine the first device may read its REDIRECT late (its path
            // is the coldest), which shortens the spread seen here; unpaced, all arrive within milliseconds.
            long first = redirectedAt.values().stream().mapToLong(Long::longValue).min().orElseThrow();
            long last = redirectedAt.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            long paced = (held.size() - 1) * 1_000_000_000L / REDIRECT_RATE / 2;
            assertTrue(last - first >= paced, "redirects spread over " + (last - first) / 1_000_000 + " ms, at least "
                    + paced / 1_000_000 + " ms expected");
            String log = Files.readString(stopping.process().spec().logFile());
            assertTrue(log.contains("redirected " + held.size() + " of " + held.size() + " devices to 1 peer(s)"), log);
        } finally {
            clients.values().forEach(TernClient::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
