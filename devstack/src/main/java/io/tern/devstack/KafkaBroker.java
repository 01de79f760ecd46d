package io.tern.devstack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft Kafka broker (combined broker + controller) running inside this JVM.
 *
 * <p>Listeners are on 127.0.0.1 only: PLAINTEXT for clients, CONTROLLER on a second free port. Every internal
 * topic has replication factor and min ISR 1, so one node is a complete cluster.
 */
public final class KafkaBroker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaBroker.class);
    private static final long START_TIMEOUT_MS = 60_000;
    private static final long TOPIC_TIMEOUT_MS = 30_000;
    private static final int START_ATTEMPTS_ON_FREE_PORT = 3;

    /**
     * @param port          client (PLAINTEXT) port; 0 picks a free one
     * @param logDir        null means a temp dir, deleted on close; an existing formatted dir is reused
     * @param numPartitions partitions of auto-created topics and of {@link #createTopics}
     * @param controllerPort the KRaft controller's port; 0 picks a free one. Fix it with {@code port} and
     *                       {@code logDir} to restart the same cluster after a crash
     */
    public record Options(int port, Path logDir, int numPartitions, int controllerPort) {
        public Options {
            if (numPartitions < 1) {
                throw new IllegalArgumentException("numPartitions must be >= 1, was " + numPartitions);
            }
        }

        public static Options defaults() {
            return new Options(0, null, 4, 0);
        }

        public Options withPort(int port) {
            return new Options(port, logDir, numPartitions, controllerPort);
        }

        public Options withLogDir(Path logDir) {
            return new Options(port, logDir, numPartitions, controllerPort);
        }

        public Options withNumPartitions(int numPartitions) {
            return new Options(port, logDir, numPartitions, controllerPort);
        }

        public Options withControllerPort(int controllerPort) {
            return new Options(port, logDir, numPartitions, controllerPort);
        }
    }

    private final Properties props;
    private KafkaRaftServer server; // guarded by this; null while stopped
    private final int port;
    private final Path logDir;
    private final boolean ownsLogDir;
    private Admin admin; // guarded by this; lazily created, reused by createTopics
    private boolean closed; // guarded by this

    private KafkaBroker(Properties props, KafkaRaftServer server, int port, Path logDir, boolean ownsLogDir) {
        this.props = props;
        this.server = server;
        this.port = port;
        this.logDir = logDir;
        this.ownsLogDir = ownsLogDir;
    }

    public static KafkaBroker start(Options o) {
        boolean ownsDir = o.logDir() == null;
        Path dir;
        try {
            dir = ownsDir ? Dirs.temp("tern-kafka-") : Files.createDirectories(o.logDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create Kafka log dir " + o.logDir(), e);
        }
        try {
            int attempts = o.port() == 0 ? START_ATTEMPTS_ON_FREE_PORT : 1;
            for (int attempt = 1; ; attempt++) {
                int port = o.port() == 0 ? Ports.free() : o.port();
                int controllerPort = o.controllerPort() == 0 ? Ports.free() : o.controllerPort();
                try {
                    return startOnce(o, dir, ownsDir, port, controllerPort);
                } catch (RuntimeException e) {
                    // Free ports can be taken between our probe and Kafka binding them; new ones fix that.
                    if (attempt < attempts && isBindFailure(e)) {
                        log.info("port {} or {} was taken before Kafka bound it; retrying", port, controllerPort);
                        continue;
                    }
                    throw e;
                }
            }
        } catch (RuntimeException e) {
            if (ownsDir) {
                Dirs.deleteQuietly(dir);
            }
            throw e;
        }
    }

    private static KafkaBroker startOnce(Options o, Path dir, boolean ownsDir, int port, int controllerPort) {
        long t0 = System.nanoTime();
        Properties props = config(o, dir, port, controllerPort);
        format(props, dir);
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        KafkaBroker broker = new KafkaBroker(props, server, port, dir, ownsDir);
        try {
            server.startup();
            broker.awaitClusterAnswers();
        } catch (RuntimeException e) {
            broker.shutdownServer();
            throw e;
        }
        log.info("Kafka broker up at {} (controller port {}, log dir {}) in {} ms",
                broker.bootstrapServers(), controllerPort, dir, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        return broker;
    }

    static Properties config(Options o, Path dir, int port, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@" + Ports.HOST + ":" + controllerPort);
        p.put("listeners", "PLAINTEXT://" + Ports.HOST + ":" + port + ",CONTROLLER://" + Ports.HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + Ports.HOST + ":" + port);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dir.toAbsolutePath().toString());

        p.put("auto.create.topics.enable", "true");
        p.put("num.partitions", Integer.toString(o.numPartitions()));
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        // One node: every internal topic must fit on it, or groups and transactions never become available.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "8"); // the default 50 only slows the first consumer group
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("share.coordinator.state.topic.num.partitions", "4");
        // Tests join groups right after start; the default 3 s delay would be waited out on every first join.
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.streams.initial.rebalance.delay.ms", "0");
        // Lets consumers ask for short sessions so a killed member's partitions move within seconds in tests
        // (Kafka's default floor is 6 s; production clusters keep theirs and consumers stay at or above it).
        p.put("group.min.session.timeout.ms", "500");
        p.put("auto.leader.rebalance.enable", "false");

        // Dev data is disposable: keep segments small so a long dev session does not fill the disk.
        p.put("log.segment.bytes", Integer.toString(16 * 1024 * 1024));
        p.put("log.retention.bytes", Long.toString(256L * 1024 * 1024));
        p.put("log.retention.hours", "24");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));

        // Two cores on dev machines and CI: the defaults (8 I/O threads, ...) only add contention.
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("background.threads", "2");
        p.put("num.recovery.threads.per.data.dir", "1");
        return p;
    }

    /** StorageTool.execute, not main: main calls System.exit. --ignore-formatted lets a kept logDir be reused. */
    private static void format(Properties props, Path dir) {
        Path cfg = null;
        try {
            cfg = Files.createTempFile("tern-kafka-", ".properties");
            try (OutputStream out = Files.newOutputStream(cfg)) {
                props.store(out, "tern devstack");
            }
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            int rc;
            try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
                rc = StorageTool.execute(new String[] {
                        "format", "-t", clusterId(dir), "-c", cfg.toString(), "--ignore-formatted"}, ps);
            }
            String out = buf.toString(StandardCharsets.UTF_8).trim();
            if (rc != 0) {
                throw new IllegalStateException("formatting Kafka log dir " + dir + " failed (" + rc + "): " + out);
            }
            log.debug("formatted {}: {}", dir, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write Kafka config for formatting", e);
        } catch (Exception e) {
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("formatting Kafka log dir " + dir + " failed", e);
        } finally {
            if (cfg != null) {
                try {
                    Files.deleteIfExists(cfg);
                } catch (IOException ignored) {
                    // temp file; the OS cleans it eventually
                }
            }
        }
    }

    /**
     * The id a kept log dir was formatted with, else a new one: formatting a kept dir with another id leaves
     * its metadata disagreeing with meta.properties, and the broker refuses to start ("Invalid cluster.id").
     */
    static String clusterId(Path dir) {
        Path meta = dir.resolve("meta.properties");
        if (Files.isReadable(meta)) {
            Properties p = new Properties();
            try (java.io.Reader r = Files.newBufferedReader(meta)) {
                p.load(r);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + meta, e);
            }
            String id = p.getProperty("cluster.id");
            if (id != null && !id.isBlank()) {
                return id.trim();
            }
        }
        return Uuid.randomUuid().toString();
    }

    private void awaitClusterAnswers() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try {
                // The admin client retries internally until the call's timeout; one call covers most of the wait.
                int nodes = admin().describeCluster().nodes().get(leftMs, TimeUnit.MILLISECONDS).size();
                if (nodes > 0) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Kafka to start", e);
            } catch (ExecutionException | TimeoutException e) {
                last = e;
            }
        }
        throw new IllegalStateException("Kafka broker at " + bootstrapServers() + " did not answer describeCluster within "
                + START_TIMEOUT_MS + " ms", last);
    }

    public String bootstrapServers() {
        return Ports.HOST + ":" + port;
    }

    public int port() {
        return port;
    }

    public Path logDir() {
        return logDir;
    }

    /**
     * Creates the topics with the broker's default partition count, replication factor 1. Topics that already exist
     * are left alone. Returns once every partition of every named topic has a leader.
     */
    public void createTopics(String... names) {
        createTopics(Arrays.asList(names), List.of());
    }

    /**
     * As {@link #createTopics(String...)}, and those of {@code names} also in {@code compacted} get
     * {@code cleanup.policy=compact} (the last record per key is kept for good, e.g. {@code tern.routes}). A topic that
     * already exists is left as it is.
     */
    public void createTopics(java.util.Collection<String> topicNames, java.util.Collection<String> compacted) {
        String[] names = topicNames.toArray(String[]::new);
        if (names.length == 0) {
            return;
        }
        List<NewTopic> topics = new ArrayList<>();
        for (String name : names) {
            NewTopic t = new NewTopic(name, Optional.empty(), Optional.empty());
            if (compacted.contains(name)) {
                t.configs(Map.of("cleanup.policy", "compact"));
            }
            topics.add(t);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TOPIC_TIMEOUT_MS);
        Admin a = admin();
        CreateTopicsResult result = a.createTopics(topics);
        for (Map.Entry<String, KafkaFuture<Void>> e : result.values().entrySet()) {
            try {
                e.getValue().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException ex) {
                if (!(ex.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("cannot create topic " + e.getKey(), ex.getCause());
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating topics", ex);
            } catch (TimeoutException ex) {
                throw new IllegalStateException("creating topic " + e.getKey() + " timed out", ex);
            }
        }
        awaitLeaders(a, Arrays.asList(names), deadline);
    }

    /** Creation is acknowledged by the controller before the broker serves the partitions; wait for that too. */
    private static void awaitLeaders(Admin a, List<String> names, long deadline) {
        while (true) {
            try {
                Map<String, TopicDescription> d = a.describeTopics(names).allTopicNames()
                        .get(remainingMs(deadline), TimeUnit.MILLISECONDS);
                boolean ready = d.values().stream()
                        .flatMap(t -> t.partitions().stream())
                        .map(TopicPartitionInfo::leader)
                        .allMatch(leader -> leader != null && !leader.isEmpty());
                if (ready) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new IllegalStateException("cannot describe topics " + names, e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for topics", e);
            } catch (TimeoutException e) {
                throw new IllegalStateException("topics " + names + " got no leaders in time", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topics " + names + " got no leaders within " + TOPIC_TIMEOUT_MS + " ms");
            }
        }
    }

    private static long remainingMs(long deadline) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private synchronized Admin admin() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        if (admin == null) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, "tern-devstack-admin");
            admin = Admin.create(p);
        }
        return admin;
    }

    /**
     * Stops the broker as an outage would (clients see it gone), keeping its ports and log dir for {@link #restart}.
     */
    public synchronized void stop() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        if (server == null) {
            return;
        }
        long t0 = System.nanoTime();
        shutdownServer();
        log.info("Kafka broker at {} stopped (restartable) in {} ms", bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /** Starts a {@link #stop stopped} broker again on the same ports and log dir: topics and offsets survive. */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        if (server != null) {
            return;
        }
        long t0 = System.nanoTime();
        KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        server = s;
        try {
            s.startup();
            awaitClusterAnswers();
        } catch (RuntimeException e) {
            shutdownServer();
            throw e;
        }
        log.info("Kafka broker at {} restarted in {} ms", bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long t0 = System.nanoTime();
        shutdownServer();
        if (ownsLogDir) {
            Dirs.deleteQuietly(logDir);
        }
        log.info("Kafka broker at {} stopped in {} ms", bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    synchronized boolean isClosed() {
        return closed;
    }

    private synchronized void shutdownServer() {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(5));
            admin = null;
        }
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }

    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (t instanceof java.net.BindException || m.contains("Address already in use")
                    || m.contains("Socket server failed to bind")) {
                return true;
            }
        }
        return false;
    }
}
