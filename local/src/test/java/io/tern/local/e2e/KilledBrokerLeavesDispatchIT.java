package io.tern.local.e2e;

import io.tern.client.dispatch.DeviceCredentials;
import io.tern.client.dispatch.DispatchClient;
import io.tern.devstack.SharedInfra;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker run as its own OS process (BrokerMain, default liveness settings) is killed with
 * SIGKILL: the dispatcher stops offering it within the liveness TTL plus one refresh; stopped with
 * SIGTERM it deregisters and leaves within a refresh. Prints the time from the signal to the first
 * dispatch answer without it.
 */
class KilledBrokerLeavesDispatchIT {
    private static final String APP = "e2e-kill";
    private static PlatformFixture platform;
    private static RedisStore redis;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        platform = PlatformFixture.start(APP);
        redis = RedisStore.connect(SharedInfra.redis().uri(), Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() {
        if (redis != null) {
            redis.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void aSigkilledBrokerLeavesDispatchAnswersWithinItsLivenessTtl() throws Exception {
        long ms = leaveDispatchAfter(Process::destroyForcibly); // SIGKILL: no deregistration
        System.out.printf("[measure] SIGKILLed broker left dispatch answers %d ms after the kill%n", ms);
    }

    @Test
    void aStoppedBrokerDeregistersAndLeavesDispatchAnswersWithinARefresh() throws Exception {
        long ms = leaveDispatchAfter(Process::destroy); // SIGTERM: the shutdown hook deregisters first
        System.out.printf("[measure] SIGTERMed broker left dispatch answers %d ms after the signal%n", ms);
    }

    /** Starts a broker process, waits until dispatch offers it, applies {@code end}, and times until it is no longer offered. */
    private static long leaveDispatchAfter(java.util.function.Consumer<Process> end) throws Exception {
        String id = "killed-" + UUID.randomUUID().toString().substring(0, 8);
        Path conf = dir.resolve(id + ".properties");
        Files.writeString(conf, String.join("\n",
                "broker.id=" + id,
                "broker.tcp-port=0", "broker.ws-port=0", "broker.internal-port=0", "broker.admin-port=0",
                "broker.io-threads=1",
                "broker.redis-uri=" + SharedInfra.redis().uri(),
                "broker.kafka-bootstrap=" + SharedInfra.kafka().bootstrapServers(),
                "broker.dev-mode=true", ""));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-cp", classpath(), "io.tern.broker.BrokerMain", conf.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve(id + ".log").toFile()).start();
        try {
            BrokerRegistry registry = new BrokerRegistry(redis);
            await().atMost(Duration.ofSeconds(60)).until(() -> registry.live().join().stream().anyMatch(b -> b.id().equals(id)));
            BrokerInfo info = registry.live().join().stream().filter(b -> b.id().equals(id)).findFirst().orElseThrow();

            DispatchClient dispatch = new DispatchClient(HttpClient.newHttpClient(),
                    URI.create("http://127.0.0.1:" + platform.cluster.dispatcher().address().getPort()), Duration.ofSeconds(5));
            DeviceCredentials device = dispatch.register(APP, PlatformFixture.clientKey(APP)).join();
            await().atMost(Duration.ofSeconds(30)).until(() -> offered(dispatch, device).contains(info.tcpAddress()));

            end.accept(child);
            long endedAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !offered(dispatch, device).contains(info.tcpAddress()));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - endedAt);
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the broker process did not end");
            return ms;
        } finally {
            child.destroyForcibly();
        }
    }

    private static List<String> offered(DispatchClient dispatch, DeviceCredentials device) {
        return dispatch.dispatch(APP, device, System.currentTimeMillis()).join().brokers();
    }

    /** This JVM's classpath; failsafe may pass it as one manifest-only jar, whose Class-Path is expanded. */
    private static String classpath() throws IOException {
        String cp = System.getProperty("java.class.path");
        if (!cp.contains(File.pathSeparator) && cp.endsWith(".jar")) {
            try (JarFile jar = new JarFile(cp)) {
                String manifestCp = jar.getManifest() == null ? null
                        : jar.getManifest().getMainAttributes().getValue("Class-Path");
                if (manifestCp != null) {
                    StringBuilder sb = new StringBuilder(cp);
                    for (String entry : manifestCp.trim().split("\\s+")) {
                        sb.append(File.pathSeparator)
                                .append(entry.startsWith("file:") ? Path.of(URI.create(entry)).toString() : entry);
                    }
                    return sb.toString();
                }
            }
        }
        return cp;
    }
}
