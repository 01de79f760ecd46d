package io.tern.devstack.process;

import io.tern.devstack.Ports;
import io.tern.devstack.RedisServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * A whole platform (one region, or brokers spread over several regions with global schedulers) with every part
 * in its own OS process, so any one can be SIGKILLed and restarted the way it dies in production: redis-server
 * (AOF, {@code appendfsync always}), Kafka (KRaft) in its own JVM, a dispatcher, N brokers, M logic nodes and
 * K global schedulers (optionally rate controllers, bypass consumers, and disk-KV backups with their disk KV), each the role's own main ({@code java -cp <this JVM's classpath>
 * io.tern.broker.BrokerMain --config <file>}, or with {@link Options#withArtefacts} {@code bin/tern-broker --config
 * <file>} on the role's own artefact) in dev mode. Ports are free ones on 127.0.0.1 picked once,
 * so a restarted process comes back where its peers and devices expect it; ids are fixed (b1.., l1..).
 *
 * <p>Every child ends by itself: Java children when this JVM's pipe to them closes or after
 * {@code maxLifetime}; redis-server through a reaper shell with the same two limits. {@link #close} stops
 * everything in reverse order, and a shutdown hook does it if the caller forgets. Logs: {@code <dir>/<id>.log}.
 */
public final class ProcessCluster implements AutoCloseable {
    public static final String BROKER_MAIN = "io.tern.broker.BrokerMain";
    public static final String DISPATCHER_MAIN = "io.tern.dispatcher.DispatcherMain";
    public static final String LOGIC_MAIN = "io.tern.logic.LogicNodeMain";
    public static final String SCHEDULER_MAIN = "io.tern.scheduler.SchedulerMain";
    public static final String RATE_CONTROLLER_MAIN = "io.tern.ratecontrol.RateControllerMain";
    public static final String BYPASS_MAIN = "io.tern.bypass.BypassConsumerMain";
    public static final String DISK_KV_BACKUP_MAIN = "io.tern.diskkv.DiskKvBackupMain";
    /** The SRE token the fixture's global schedulers accept. */
    public static final String SRE_TOKEN = "tern-process-cluster-sre-token";
    private static final Logger log = LoggerFactory.getLogger(ProcessCluster.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    /**
     * @param dir         data (Redis AOF, Kafka log), role config files and logs
     * @param settings    role keys ({@code broker.*}, {@code dispatcher.*}, {@code logic.*}) for every instance of
     *                    that role, written to its config file; the fixture's own (addresses, ports, ids, dev mode)
     *                    arrive by environment and win
     * @param topics      Kafka topics created before the roles start
     * @param maxLifetime every child exits after this, whatever happens to this JVM
     * @param roleJvmArgs flags of the role JVMs; Kafka's are {@code kafkaJvmArgs}
     * @param brokerRegions region of broker i (from 1) at index i-1, cycled when shorter than {@code brokers};
     *                      empty: every broker in the brokers' default region
     * @param schedulers  global scheduler instances (s1, s2, ..; one leads), each knowing the brokers' regions
     * @param rateControllers rate controller instances (rc1, rc2, ..; one leads), keys {@code ratecontrol.*}
     * @param bypassConsumers bypass consumers (bp1, bp2, ..) draining {@code tern.buffer}, keys {@code bypass.*}
     * @param compactedTopics those of {@code topics} created with {@code cleanup.policy=compact} (e.g. tern.routes)
     * @param diskKvBackups disk-KV backups (dk1, dk2, ..), keys {@code backup.*}; with any, a second redis-server
     *                      (AOF, {@code appendfsync always}) stands in for the disk KV (Kvrocks)
     * @param artefacts   null: roles run on this JVM's classpath; else the repository root whose
     *                    {@code bin/tern-<role>} start them from each role's own built artefact, as deployed
     */
    public record Options(Path dir, int brokers, int logicNodes, Map<String, String> settings, List<String> topics,
                          Duration maxLifetime, List<String> roleJvmArgs, List<String> kafkaJvmArgs,
                          List<String> brokerRegions, int schedulers, int rateControllers, int bypassConsumers,
                          List<String> compactedTopics, int diskKvBackups, Path artefacts) {
        /** Small JVMs that start fast: a 2-core machine runs all of them at once. */
        public static final List<String> SMALL_JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-XX:+ExitOnOutOfMemoryError");

        public static Options of(Path dir, int brokers, int logicNodes, Map<String, String> settings, List<String> topics) {
            return new Options(dir, brokers, logicNodes, settings, topics, Duration.ofMinutes(10), SMALL_JVM,
                    List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError"),
                    List.of(), 0, 0, 0, List.of(), 0, null);
        }

        public Options withMaxLifetime(Duration maxLifetime) {
            return new Options(dir, brokers, logicNodes, settings, topics, maxLifetime, roleJvmArgs, kafkaJvmArgs,
                    brokerRegions, schedulers, rateControllers, bypassConsumers, compactedTopics, diskKvBackups, artefacts);
        }

        public Options withRoleJvmArgs(List<String> roleJvmArgs) {
            return new Options(dir, brokers, logicNodes, settings, topics, maxLifetime, roleJvmArgs, kafkaJvmArgs,
                    brokerRegions, schedulers, rateControllers, bypassConsumers, compactedTopics, diskKvBackups, artefacts);
        }

        /** Brokers spread over regions: broker i in {@code regions[(i-1) % size]}. */
        public Options withRegions(List<String> regions, int schedulers) {
            return new Options(dir, brokers, logicNodes, settings, topics, maxLifetime, roleJvmArgs, kafkaJvmArgs,
                    List.copyOf(regions), schedulers, rateControllers, bypassConsumers, compactedTopics, diskKvBackups, artefacts);
        }

        /** With the issue-11 roles: {@code controllers} rate controllers and {@code consumers} bypass consumers. */
        public Options withThrottling(int controllers, int consumers) {
            return new Options(dir, brokers, logicNodes, settings, topics, maxLifetime, roleJvmArgs, kafkaJvmArgs,
                    brokerRegions, schedulers, controllers, consumers, compactedTopics, diskKvBackups, artefacts);
        }

        /** Creates those of {@code topics} in {@code compacted} with {@code cleanup.policy=compact}. */
        public Options withCompactedTopics(List<String> compacted) {
            return new Options(dir, brokers, logicNodes, settings, topics, maxLifetime, roleJvmArgs, kafkaJvmArgs,
                    brokerRegions, schedulers, rateControllers, bypassConsumers, List.copyOf(compacted), diskKvBackups, artefacts);
        }

        /** With a disk KV (a redis-server with AOF always standing in for Kvrocks) and {@code backups} disk-KV backups. */
        public Options withDiskKvBackups(int backups) {
            return new Options(dir, brokers, logicNodes, settings, topics, maxLifetime, roleJvmArgs, kafkaJvmArgs,
                    brokerRegions, schedulers, rateControllers, bypassConsumers, compactedTopics, backups, artefacts);
        }

        /** Every role from its artefact: {@code <repository>/bin/tern-<role>} (built by {@code mvn package}). */
        public Options withArtefacts(Path repository) {
            return new Options(dir, brokers, logicNodes, settings, topics, maxLifetime, roleJvmArgs, kafkaJvmArgs,
                    brokerRegions, schedulers, rateControllers, bypassConsumers, compactedTopics, diskKvBackups,
                    repository);
        }

        /** The region of broker {@code n} (from 1), or null for the brokers' default. */
        public String regionOf(int n) {
            return brokerRegions.isEmpty() ? null : brokerRegions.get((n - 1) % brokerRegions.size());
        }
    }

    private final Options options;
    private final Consumer<String> say;
    private final int kafkaPort = Ports.free();
    private final int kafkaControllerPort = Ports.free();
    private final List<RoleProcess> brokers = new ArrayList<>();
    private final List<RoleProcess> logicNodes = new ArrayList<>();
    private final List<RoleProcess> schedulers = new ArrayList<>();
    private final List<RoleProcess> rateControllers = new ArrayList<>();
    private final List<RoleProcess> bypassConsumers = new ArrayList<>();
    private final List<RoleProcess> diskKvBackups = new ArrayList<>();
    private final Thread hook = new Thread(this::close, "tern-process-cluster-shutdown");
    private RedisServer redis;
    private Process redisReaper; // guarded by this
    private RedisServer diskKv;
    private Process diskKvReaper; // guarded by this
    private JavaProcess kafka;
    private RoleProcess dispatcher;
    private boolean closed; // guarded by this

    private ProcessCluster(Options options, Consumer<String> say) {
        this.options = options;
        this.say = say;
    }

    /** Starts Redis, Kafka, the brokers, the dispatcher and the logic nodes, each ready before the next. */
    public static ProcessCluster start(Options options, Consumer<String> say) {
        ProcessCluster c = new ProcessCluster(options, say);
        Runtime.getRuntime().addShutdownHook(c.hook);
        try {
            c.startAll();
            return c;
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    private void startAll() {
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(options.dir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + options.dir(), e);
        }
        redis = RedisServer.start(RedisServer.Options.defaults().withPort(Ports.free()).withAppendOnly(true)
                .withAppendFsync("always").withDataDir(options.dir().resolve("redis")));
        armRedisReaper();
        if (options.diskKvBackups() > 0) {
            diskKv = RedisServer.start(RedisServer.Options.defaults().withPort(Ports.free()).withAppendOnly(true)
                    .withAppendFsync("always").withDataDir(options.dir().resolve("disk-kv")));
            armDiskKvReaper();
        }
        kafka = JavaProcess.start(new JavaProcess.Spec("kafka", options.kafkaJvmArgs(), KafkaMain.class.getName(),
                List.of(Integer.toString(kafkaPort), Integer.toString(kafkaControllerPort),
                        options.dir().resolve("kafka").toAbsolutePath().toString(), String.join(",", options.topics()),
                        String.join(",", options.compactedTopics())),
                Map.of(), options.dir().resolve("kafka.log"), options.maxLifetime()));
        kafka.awaitLogLine(KafkaMain.READY, START_TIMEOUT);
        say.accept(String.format("redis %s (pid %d), kafka %s (pid %d) up (%.1f s)", redis.uri(), redis.pid(),
                kafkaBootstrap(), kafka.pid(), (System.nanoTime() - t0) / 1e9));

        for (int i = 1; i <= options.brokers(); i++) {
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (String p : List.of("tcp", "ws", "internal", "admin")) {
                ports.put(p, Ports.free());
            }
            String id = "b" + i;
            Map<String, String> env = new HashMap<>(common("BROKER"));
            env.put("TERN_BROKER_ID", id);
            env.put("TERN_BROKER_KAFKA_BOOTSTRAP", kafkaBootstrap());
            String region = options.regionOf(i);
            if (region != null) {
                env.put("TERN_BROKER_REGION", region);
            }
            ports.forEach((name, port) -> env.put("TERN_BROKER_" + name.toUpperCase() + "_PORT", Integer.toString(port)));
            brokers.add(startRole(id, BROKER_MAIN, "broker", "broker", env, ports, ports.get("admin")));
        }
        for (RoleProcess b : brokers) {
            b.awaitHealthy(START_TIMEOUT);
        }
        int dispatcherPort = Ports.free();
        Map<String, String> denv = new HashMap<>(common("DISPATCHER"));
        denv.put("TERN_DISPATCHER_PORT", Integer.toString(dispatcherPort));
        dispatcher = startRole("d1", DISPATCHER_MAIN, "dispatcher", "dispatcher", denv, Map.of("http", dispatcherPort), dispatcherPort);
        for (int i = 1; i <= options.logicNodes(); i++) {
            int port = Ports.free();
            Map<String, String> env = new HashMap<>(common("LOGIC"));
            env.put("TERN_LOGIC_ID", "l" + i);
            // Distinct msgId generators while node ids are configured (issue 9 item 5 may lease them instead).
            env.put("TERN_LOGIC_NODE_ID", Integer.toString(i));
            env.put("TERN_LOGIC_KAFKA_BOOTSTRAP", kafkaBootstrap());
            env.put("TERN_LOGIC_PORT", Integer.toString(port));
            logicNodes.add(startRole("l" + i, LOGIC_MAIN, "logic-node", "logic", env, Map.of("http", port), port));
        }
        for (int i = 1; i <= options.schedulers(); i++) {
            int port = Ports.free();
            Map<String, String> env = new HashMap<>(common("SCHEDULER"));
            env.put("TERN_SCHEDULER_ID", "s" + i);
            env.put("TERN_SCHEDULER_PORT", Integer.toString(port));
            env.put("TERN_SCHEDULER_SRE_TOKEN", SRE_TOKEN);
            if (!options.brokerRegions().isEmpty()) {
                env.put("TERN_SCHEDULER_REGIONS", String.join(",", new java.util.LinkedHashSet<>(options.brokerRegions())));
            }
            schedulers.add(startRole("s" + i, SCHEDULER_MAIN, "global-scheduler", "scheduler", env, Map.of("http", port), port));
        }
        for (int i = 1; i <= options.rateControllers(); i++) {
            int port = Ports.free();
            Map<String, String> env = new HashMap<>(common("RATECONTROL"));
            env.put("TERN_RATECONTROL_ID", "rc" + i);
            env.put("TERN_RATECONTROL_PORT", Integer.toString(port));
            env.put("TERN_RATECONTROL_SRE_TOKEN", SRE_TOKEN);
            rateControllers.add(startRole("rc" + i, RATE_CONTROLLER_MAIN, "rate-controller", "ratecontrol", env, Map.of("http", port), port));
        }
        for (int i = 1; i <= options.bypassConsumers(); i++) {
            bypassConsumers.add(startBypassConsumer("bp" + i));
        }
        for (int i = 1; i <= options.diskKvBackups(); i++) {
            diskKvBackups.add(startDiskKvBackup("dk" + i));
        }
        dispatcher.awaitHealthy(START_TIMEOUT);
        List<RoleProcess> rest = new ArrayList<>(logicNodes);
        rest.addAll(schedulers);
        rest.addAll(rateControllers);
        rest.addAll(bypassConsumers);
        rest.addAll(diskKvBackups);
        for (RoleProcess r : rest) {
            r.awaitHealthy(START_TIMEOUT);
        }
        say.accept(String.format("%d broker(s), dispatcher, %d logic node(s), %d scheduler(s), %d rate controller(s), "
                        + "%d bypass consumer(s), %d disk-KV backup(s) up as processes (%.1f s); logs in %s",
                brokers.size(), logicNodes.size(), schedulers.size(), rateControllers.size(), bypassConsumers.size(),
                diskKvBackups.size(), (System.nanoTime() - t0) / 1e9, options.dir()));
    }

    private RoleProcess startBypassConsumer(String id) {
        int port = Ports.free();
        Map<String, String> env = new HashMap<>(common("BYPASS"));
        env.put("TERN_BYPASS_ID", id);
        env.put("TERN_BYPASS_PORT", Integer.toString(port));
        env.put("TERN_BYPASS_KAFKA_BOOTSTRAP", kafkaBootstrap());
        return startRole(id, BYPASS_MAIN, "bypass-consumer", "bypass", env, Map.of("http", port), port);
    }

    private RoleProcess startDiskKvBackup(String id) {
        int port = Ports.free();
        Map<String, String> env = new HashMap<>();
        env.put("TERN_BACKUP_ID", id);
        env.put("TERN_BACKUP_PORT", Integer.toString(port));
        env.put("TERN_BACKUP_KAFKA_BOOTSTRAP", kafkaBootstrap());
        env.put("TERN_BACKUP_DISK_KV_URI", diskKv.uri());
        return startRole(id, DISK_KV_BACKUP_MAIN, "disk-kv-backup", "backup", env, Map.of("http", port), port);
    }

    /**
     * Starts one more bypass consumer (bp{n+1}) in the running cluster, as a scaler adds a replica; returns once
     * it is healthy.
     */
    public RoleProcess addBypassConsumer() {
        RoleProcess b;
        synchronized (this) {
            b = startBypassConsumer("bp" + (bypassConsumers.size() + 1));
            bypassConsumers.add(b);
        }
        b.awaitHealthy(START_TIMEOUT);
        return b;
    }

    private Map<String, String> common(String role) {
        Map<String, String> env = new HashMap<>();
        env.put("TERN_" + role + "_DEV_MODE", "true");
        env.put("TERN_" + role + "_REDIS_URI", redis.uri());
        if (diskKv != null && (role.equals("LOGIC") || role.equals("BROKER"))) {
            // What logic nodes and brokers go on with through a Redis outage.
            env.put("TERN_" + role + "_DISK_KV_URI", diskKv.uri());
        }
        return env;
    }

    /** @param module the role's module: {@code bin/tern-<module>} starts it from its artefact */
    private RoleProcess startRole(String id, String mainClass, String module, String prefix, Map<String, String> env,
                                  Map<String, Integer> ports, int healthPort) {
        Path config = writeConfig(prefix);
        List<String> jvm = new ArrayList<>(options.roleJvmArgs());
        jvm.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        jvm.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
        JavaProcess.Spec spec = new JavaProcess.Spec(id, jvm, mainClass, List.of("--config", config.toString()),
                env, options.dir().resolve(id + ".log"), options.maxLifetime());
        if (options.artefacts() != null) {
            spec = spec.withLauncher(options.artefacts().resolve("bin").resolve("tern-" + module));
        }
        JavaProcess p = JavaProcess.start(spec);
        return new RoleProcess(id, p, URI.create("http://" + Ports.HOST + ":" + healthPort + "/health"), Map.copyOf(ports));
    }

    /** The caller's keys of one role, in {@code <dir>/<role>.properties} (nested keys cannot come by environment). */
    private Path writeConfig(String prefix) {
        Path file = options.dir().resolve(prefix + ".properties").toAbsolutePath();
        Properties p = new Properties();
        options.settings().forEach((k, v) -> {
            if (k.startsWith(prefix + ".")) {
                p.setProperty(k, v);
            }
        });
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "role settings written by ProcessCluster");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    /** redis-server is no JVM, so no lifeline of its own: a {@link Reaper} ends it with this JVM. */
    private synchronized void armRedisReaper() {
        disarmRedisReaper();
        redisReaper = Reaper.arm(redis.pid(), options.maxLifetime());
    }

    private synchronized void armDiskKvReaper() {
        disarmDiskKvReaper();
        diskKvReaper = Reaper.arm(diskKv.pid(), options.maxLifetime());
    }

    private synchronized void disarmDiskKvReaper() {
        Reaper.disarm(diskKvReaper);
        diskKvReaper = null;
    }

    /** Ends the reaper without it killing anything (its kill -9 names a pid that is already gone or stopping). */
    private synchronized void disarmRedisReaper() {
        Reaper.disarm(redisReaper);
        redisReaper = null;
    }

    // --- faults ---

    /** SIGKILL redis-server; its AOF (fsync always) keeps every acknowledged write. */
    public void killRedis() {
        disarmRedisReaper();
        redis.kill();
    }

    /** Starts redis-server again on the same port and data dir: it replays its AOF. */
    public void restartRedis() {
        redis.restart();
        armRedisReaper();
    }

    /** SIGKILL the disk KV's redis-server; its AOF (fsync always) keeps every acknowledged write. */
    public void killDiskKv() {
        disarmDiskKvReaper();
        diskKv.kill();
    }

    /** Starts the disk KV again on the same port and data dir. */
    public void restartDiskKv() {
        diskKv.restart();
        armDiskKvReaper();
    }

    /** SIGKILL the Kafka JVM. */
    public void killKafka() {
        kafka.kill();
    }

    /** Starts Kafka again on the same ports and log dir; returns once it serves. */
    public void restartKafka() {
        kafka.restart();
        kafka.awaitLogLine(KafkaMain.READY, START_TIMEOUT);
    }

    // --- addresses ---

    public String redisUri() {
        return redis.uri();
    }

    public RedisServer redis() {
        return redis;
    }

    /** The disk KV (null unless the options ask for disk-KV backups). */
    public RedisServer diskKv() {
        return diskKv;
    }

    public synchronized List<RoleProcess> diskKvBackups() {
        return List.copyOf(diskKvBackups);
    }

    public String kafkaBootstrap() {
        return Ports.HOST + ":" + kafkaPort;
    }

    public JavaProcess kafka() {
        return kafka;
    }

    public RoleProcess dispatcher() {
        return dispatcher;
    }

    public URI dispatcherUrl() {
        return URI.create("http://" + Ports.HOST + ":" + dispatcher.port("http"));
    }

    public List<RoleProcess> brokers() {
        return List.copyOf(brokers);
    }

    public List<RoleProcess> logicNodes() {
        return List.copyOf(logicNodes);
    }

    public List<RoleProcess> schedulers() {
        return List.copyOf(schedulers);
    }

    public List<RoleProcess> rateControllers() {
        return List.copyOf(rateControllers);
    }

    /** The admin API of each rate controller (any of them answers; one leads). */
    public List<URI> rateControllerUrls() {
        return rateControllers.stream().map(r -> URI.create("http://" + Ports.HOST + ":" + r.port("http"))).toList();
    }

    public synchronized List<RoleProcess> bypassConsumers() {
        return List.copyOf(bypassConsumers);
    }

    /** The admin API of each global scheduler (any of them answers; one leads). */
    public List<URI> schedulerUrls() {
        return schedulers.stream().map(l -> URI.create("http://" + Ports.HOST + ":" + l.port("http"))).toList();
    }

    /** The brokers of {@code region}. */
    public List<RoleProcess> brokersIn(String region) {
        List<RoleProcess> out = new ArrayList<>();
        for (int i = 1; i <= brokers.size(); i++) {
            if (region.equals(options.regionOf(i))) {
                out.add(brokers.get(i - 1));
            }
        }
        return out;
    }

    public List<URI> logicUrls() {
        return logicNodes.stream().map(l -> URI.create("http://" + Ports.HOST + ":" + l.port("http"))).toList();
    }

    public Path dir() {
        return options.dir();
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down
            }
        }
        // Reverse of start: the API, the dispatcher, the brokers (they flush acks), then Kafka and Redis.
        List<JavaProcess> roles = new ArrayList<>();
        synchronized (this) {
            bypassConsumers.forEach(b -> roles.add(b.process()));
            diskKvBackups.forEach(b -> roles.add(b.process()));
        }
        rateControllers.forEach(r -> roles.add(r.process()));
        schedulers.forEach(l -> roles.add(l.process()));
        logicNodes.forEach(l -> roles.add(l.process()));
        if (dispatcher != null) {
            roles.add(dispatcher.process());
        }
        brokers.forEach(b -> roles.add(b.process()));
        roles.parallelStream().forEach(p -> quietly(() -> p.stop(Duration.ofSeconds(15))));
        if (kafka != null) {
            quietly(() -> kafka.stop(Duration.ofSeconds(20)));
        }
        if (redis != null) {
            quietly(redis::close);
        }
        if (diskKv != null) {
            quietly(diskKv::close);
        }
        disarmRedisReaper();
        disarmDiskKvReaper();
    }

    private static void quietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("while stopping: {}", e.toString());
        }
    }
}
