package io.tern.loadtest.platform;

import io.tern.devstack.KafkaBroker;
import io.tern.devstack.Ports;
import io.tern.devstack.RedisServer;
import io.tern.dispatcher.Dispatcher;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.loadtest.process.ChildProcess;
import io.tern.devstack.process.WatchedMain;
import io.tern.logic.LogicNode;
import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.Settings;
import io.tern.runtime.tls.TlsConfig;
import io.tern.devstack.DevCertificates;
import io.tern.store.redis.RedisStore;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.throttle.ThrottleDirective;
import io.tern.store.topic.Topics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The platform under test, on this machine: a real Redis (child process, AOF on as in dev mode),
 * an in-process KRaft Kafka, N brokers as child JVMs ({@code BrokerMain} with {@code TERN_BROKER_*}
 * environment), and a dispatcher and a logic node in this JVM. Every role uses its defaults except
 * ports (free ones) and addresses; {@code overrides} ({@code --set key=value}) change any role key:
 * {@code broker.*} keys reach the broker processes as environment variables.
 */
public final class Platform implements AutoCloseable {
    public static final String APP_ID = "loadtest";
    public static final String APP_KEY = "loadtest-key";
    public static final String APP_SECRET = "loadtest-secret";
    /** The flags {@code bin/tern-broker} and the broker's image run it with (its pom's heap free ratios). */
    public static final List<String> BROKER_JVM_FLAGS = List.of("-XX:+UseG1GC", "-XX:MinHeapFreeRatio=5",
            "-XX:MaxHeapFreeRatio=10", "-XX:+ExitOnOutOfMemoryError");
    /** The flags {@code bin/tern-<role>} runs every other role with (the parent pom's heap free ratios). */
    public static final List<String> ROLE_JVM_FLAGS = List.of("-XX:+UseG1GC", "-XX:MinHeapFreeRatio=10",
            "-XX:MaxHeapFreeRatio=20", "-XX:+ExitOnOutOfMemoryError");

    /**
     * @param brokers        broker processes
     * @param overrides      role settings ({@code broker.*}, {@code dispatcher.*}, {@code logic.*})
     * @param brokerJvmArgs  flags for broker JVMs
     * @param runDir         logs go here
     * @param maxLifetime    children exit after this even if the runner hangs
     * @param tls            dev CA in {@code runDir/tls}; brokers (device and internal ports) and the dispatcher
     *                       serve TLS only, the logic node links to brokers over mutual TLS and keeps its API
     *                       plain for the load generator; {@code overrides} still win
     */
    public record Options(int brokers, Map<String, String> overrides, List<String> brokerJvmArgs, Path runDir,
                          Duration maxLifetime, boolean tls) {
    }

    private final List<BrokerProcess> brokers = new ArrayList<>();
    private RedisServer redis;
    private Process redisReaper;
    private KafkaBroker kafka;
    private Dispatcher dispatcher;
    private LogicNode logic;
    private DevCertificates tls;
    private TlsConfig logicTls;

    private Platform() {
    }

    public static Platform start(Options o, Consumer<String> say) {
        Platform p = new Platform();
        try {
            p.doStart(o, say);
            return p;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    private void doStart(Options o, Consumer<String> say) {
        long t0 = System.nanoTime();
        redis = RedisServer.start(RedisServer.Options.defaults().withAppendOnly(true));
        redisReaper = reaper(redisPid());
        kafka = KafkaBroker.start(KafkaBroker.Options.defaults());
        kafka.createTopics(Topics.ALL, Topics.COMPACTED);
        say.accept(String.format("redis %s, kafka %s up (%.1f s)", redis.uri(), kafka.bootstrapServers(),
                (System.nanoTime() - t0) / 1e9));

        Map<String, String> overrides = new HashMap<>();
        if (o.tls()) {
            tls = DevCertificates.ensure(o.runDir().resolve("tls"));
            overrides.putAll(tls.settings("broker"));
            overrides.put("broker.tls.plain", "false");
            overrides.putAll(tls.settings("dispatcher"));
            overrides.put("dispatcher.tls.plain", "false");
            overrides.putAll(tls.settings("logic"));
        }
        overrides.putAll(o.overrides());
        Map<String, String> brokerEnv = new HashMap<>();
        Properties brokerFile = new Properties();
        overrides.forEach((k, v) -> {
            if (k.startsWith("broker.")) {
                // An environment name has one section dot: nested keys (broker.tls.*) go through a file.
                if (k.indexOf('.', "broker.".length()) < 0) {
                    brokerEnv.put(Settings.keyToEnv(k), v);
                } else {
                    brokerFile.setProperty(k, v);
                }
            }
        });
        // A load test is a dev setup: the development token secret and device key are fine here.
        brokerEnv.put("TERN_BROKER_DEV_MODE", "true");
        if (!brokerFile.isEmpty()) {
            Path file = o.runDir().resolve("broker.properties");
            try (Writer w = Files.newBufferedWriter(file)) {
                brokerFile.store(w, "nested broker keys for the broker processes");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
            brokerEnv.put("TERN_CONFIG", file.toString());
        }
        brokerEnv.put("TERN_BROKER_REDIS_URI", redis.uri());
        brokerEnv.put("TERN_BROKER_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
        brokerEnv.put("TERN_BROKER_TCP_PORT", "0");
        brokerEnv.put("TERN_BROKER_WS_PORT", "0");
        brokerEnv.put("TERN_BROKER_INTERNAL_PORT", "0");
        for (int i = 1; i <= o.brokers(); i++) {
            String id = "b" + i;
            int admin = Ports.free();
            Map<String, String> env = new HashMap<>(brokerEnv);
            env.put("TERN_BROKER_ID", id);
            env.put("TERN_BROKER_ADMIN_PORT", Integer.toString(admin));
            List<String> jvm = new ArrayList<>(o.brokerJvmArgs());
            jvm.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
            ChildProcess proc = ChildProcess.start("broker-" + id, jvm, WatchedMain.class.getName(),
                    List.of("io.tern.broker.BrokerMain"), env, o.runDir().resolve("broker-" + id + ".log"),
                    o.maxLifetime().toSeconds());
            brokers.add(new BrokerProcess(id, proc, admin));
        }
        awaitBrokers(Duration.ofSeconds(120));
        say.accept(String.format("%d broker process(es) up: %s (%.1f s)", brokers.size(),
                brokers.stream().map(b -> b.id() + " pid " + b.pid()).toList(), (System.nanoTime() - t0) / 1e9));

        Map<String, String> roles = new HashMap<>();
        roles.put("dispatcher.port", "0");
        roles.put("dispatcher.redis-uri", redis.uri());
        roles.put("dispatcher.dev-mode", "true");
        roles.put("logic.dev-mode", "true");
        roles.put("dispatcher.client-keys", APP_ID + "=" + APP_ID + "-client-key");
        roles.put("logic.port", "0");
        roles.put("logic.redis-uri", redis.uri());
        roles.put("logic.kafka-bootstrap", kafka.bootstrapServers());
        roles.put("logic.apps." + APP_ID + ".key", APP_KEY);
        roles.put("logic.apps." + APP_ID + ".secret", APP_SECRET);
        // The load test measures the platform, not the per-app limits (issue 3): lift them for its app.
        roles.put("logic.limits.apps." + APP_ID + ".rate", "1000000");
        roles.put("logic.limits.apps." + APP_ID + ".daily-quota", "1000000000000");
        // No rate controller or bypass consumer runs here: without a directive every push takes the direct path
        // (a scenario that runs them overrides this).
        roles.put("logic.permit.fallback-rate", Long.toString(ThrottleDirective.MAX_PERMIT));
        overrides.forEach((k, v) -> {
            if (!k.startsWith("broker.")) {
                roles.put(k, v);
            }
        });
        Settings settings = Settings.of(roles);
        dispatcher = Dispatcher.start(DispatcherConfig.from(settings));
        LogicConfig logicConfig = LogicConfig.from(settings);
        logicTls = logicConfig.tls();
        logic = LogicNode.start(logicConfig);
        awaitReceipts(Duration.ofSeconds(30));
        say.accept(String.format("dispatcher %s, logic node %s up (%.1f s)", dispatcherUrl(), logicUrl(),
                (System.nanoTime() - t0) / 1e9));
    }

    private void awaitBrokers(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (BrokerProcess b : brokers) {
            while (!b.healthy()) {
                if (!b.process().alive()) {
                    throw new IllegalStateException("broker " + b.id() + " exited during start; see its log");
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("broker " + b.id() + " not healthy within " + timeout);
                }
                sleep(100);
            }
        }
        // /health is up once bound and connected; the registry entry is what dispatchers read.
        try (RedisStore store = RedisStore.connect(redis.uri(), Duration.ofSeconds(2))) {
            BrokerRegistry registry = new BrokerRegistry(store);
            while (true) {
                List<BrokerInfo> live = registry.live().get(5, TimeUnit.SECONDS);
                if (live.size() >= brokers.size()) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + live.size() + " of " + brokers.size()
                            + " brokers registered within " + timeout);
                }
                sleep(100);
            }
        } catch (Exception e) {
            if (e instanceof IllegalStateException ise) {
                throw ise;
            }
            throw new IllegalStateException("reading the broker registry failed: " + e, e);
        }
    }

    private void awaitReceipts(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!logic.receiptsReady() && System.nanoTime() < deadline) {
            sleep(50);
        }
    }

    /**
     * Brokers and device processes exit when this JVM's pipes close; redis-server does not. A shell
     * that waits for its stdin (our pipe) to close and then kills Redis by pid covers a runner killed
     * with SIGKILL. On a normal close the shell is stopped first.
     */
    public static Process reaper(long pid) {
        if (pid <= 0) {
            return null;
        }
        try {
            return new ProcessBuilder("sh", "-c", "cat > /dev/null; kill " + pid + " 2>/dev/null")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            return null;
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    public List<BrokerProcess> brokers() {
        return List.copyOf(brokers);
    }

    public String dispatcherUrl() {
        return url(dispatcher.address(), dispatcher.config().tls());
    }

    /**
     * The dispatcher's device key: the simulated devices derive their own credentials with it instead of
     * registering one by one (the platform provisions them, as the local runner does its demo device).
     */
    public String deviceKey() {
        return dispatcher.config().devices().deviceKey();
    }

    public String logicUrl() {
        return url(logic.address(), logicTls);
    }

    /** The dev CA devices must trust, null when the run is plain. */
    public Path trustedCa() {
        return tls == null ? null : tls.caCertificate();
    }

    public InetSocketAddress logicAddress() {
        return logic.address();
    }

    /** pid of the redis-server child, or -1. */
    public long redisPid() {
        Optional<ProcessHandle> h = ProcessHandle.current().children()
                .filter(c -> c.info().command().map(cmd -> cmd.contains("redis")).orElse(false)).findFirst();
        return h.map(ProcessHandle::pid).orElse(-1L);
    }

    /** https only where plain is refused: the load generator's own API client stays plain. */
    private static String url(InetSocketAddress a, TlsConfig tls) {
        return (tls.enabled() && !tls.plain() ? "https://" : "http://") + a.getHostString() + ":" + a.getPort();
    }

    @Override
    public void close() {
        // Reverse of start: the API, the dispatcher, then brokers (they flush acks), then Kafka and Redis.
        if (logic != null) {
            quietly(logic::close);
        }
        if (dispatcher != null) {
            quietly(dispatcher::close);
        }
        brokers.parallelStream().forEach(b -> b.process().stop(Duration.ofSeconds(15)));
        if (kafka != null) {
            quietly(kafka::close);
        }
        if (redisReaper != null) {
            redisReaper.destroyForcibly();
        }
        if (redis != null) {
            quietly(redis::close);
        }
    }

    private static void quietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            System.err.println("while stopping: " + e);
        }
    }
}
