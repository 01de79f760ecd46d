package io.tern.devstack;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Redis Cluster on 127.0.0.1: {@code masters} redis-servers in cluster mode, each with
 * {@code replicasPerMaster} replicas, every node writing its AOF with {@code appendfsync always} like the single
 * dev Redis. Slots are assigned by {@code redis-cli --cluster create} (next to redis-server, on PATH or in
 * /usr/bin); without redis-cli (the bundled redis-server fallback) by CLUSTER MEET / ADDSLOTS / REPLICATE.
 * {@link #start} returns once every node reports {@code cluster_state:ok} and every replica is in sync.
 *
 * <p>Clients reach it with {@link #uri()}: {@code redis-cluster://h1:p1,h2:p2,...}, the form the store's
 * RedisStore reads. Tests break single nodes with {@link #kill} and bring them back with {@link #restart}.
 */
public final class RedisCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisCluster.class);
    private static final long READY_TIMEOUT_MS = 30_000;
    private static final int SLOTS = 16_384;

    /**
     * @param masters           at least 3 (Redis needs a majority of masters to promote a replica)
     * @param replicasPerMaster 0 or more
     * @param nodeTimeoutMs     {@code cluster-node-timeout}: a master silent this long is failed over
     */
    public record Options(int masters, int replicasPerMaster, int nodeTimeoutMs) {
        public Options {
            if (masters < 3 || replicasPerMaster < 0 || nodeTimeoutMs < 100) {
                throw new IllegalArgumentException("need masters >= 3, replicasPerMaster >= 0, nodeTimeoutMs >= 100, was "
                        + masters + "/" + replicasPerMaster + "/" + nodeTimeoutMs);
            }
        }

        /** Three masters with one replica each; a dead master's replica takes over within about 2 s. */
        public static Options defaults() {
            return new Options(3, 1, 1_000);
        }

        public Options withNodeTimeoutMs(int nodeTimeoutMs) {
            return new Options(masters, replicasPerMaster, nodeTimeoutMs);
        }
    }

    private final Options options;
    private final Path dir;
    private final List<RedisServer> nodes;
    private boolean closed; // guarded by this

    private RedisCluster(Options options, Path dir, List<RedisServer> nodes) {
        this.options = options;
        this.dir = dir;
        this.nodes = List.copyOf(nodes);
    }

    public static RedisCluster start(Options o) {
        Path dir = Dirs.temp("tern-redis-cluster-");
        List<RedisServer> nodes = new ArrayList<>();
        RedisCluster cluster = null;
        try {
            int total = o.masters() * (1 + o.replicasPerMaster());
            for (int i = 0; i < total; i++) {
                nodes.add(RedisServer.start(RedisServer.Options.defaults()
                        .withAppendOnly(true)
                        .withAppendFsync("always")
                        .withDataDir(dir.resolve("node-" + i))
                        .withClusterNodeTimeoutMs(o.nodeTimeoutMs())));
            }
            cluster = new RedisCluster(o, dir, nodes);
            Path cli = redisCli();
            if (cli != null) {
                cluster.createWithRedisCli(cli);
            } else {
                cluster.createWithClusterCommands();
            }
            cluster.awaitHealthy();
            log.info("Redis Cluster up: {} masters x {} replicas at {}", o.masters(), o.replicasPerMaster(), cluster.uri());
            return cluster;
        } catch (RuntimeException e) {
            nodes.forEach(RedisServer::close);
            Dirs.deleteQuietly(dir);
            throw e;
        }
    }

    /** {@code redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...}: every node is a seed for topology discovery. */
    public String uri() {
        return "redis-cluster://" + nodes.stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
    }

    /** All nodes in start order (the first {@code masters} began as masters; roles change on failover). */
    public List<RedisServer> nodes() {
        return nodes;
    }

    /** The node currently serving {@code key}'s slot as master (asks the cluster, so it follows failovers). */
    public RedisServer masterFor(String key) {
        RedisServer any = anyRunning();
        long slot;
        try {
            slot = (Long) RespCall.call(any.port(), "CLUSTER", "KEYSLOT", key);
        } catch (IOException e) {
            throw new IllegalStateException("CLUSTER KEYSLOT on port " + any.port() + " failed: " + e);
        }
        for (String line : clusterNodes(any)) {
            String[] f = line.split(" ");
            if (!f[2].contains("master") || f[2].contains("fail")) {
                continue;
            }
            for (int i = 8; i < f.length; i++) {
                if (f[i].startsWith("[")) {
                    continue; // a slot being migrated
                }
                String[] range = f[i].split("-");
                long from = Long.parseLong(range[0]);
                long to = range.length == 2 ? Long.parseLong(range[1]) : from;
                if (slot >= from && slot <= to) {
                    return byAddress(f[1]);
                }
            }
        }
        throw new IllegalStateException("no master serves slot " + slot);
    }

    /** A running replica of {@code master} (as the cluster sees it now). */
    public RedisServer replicaOf(RedisServer master) {
        requireMember(master);
        List<String> lines = clusterNodes(anyRunning());
        String masterId = lines.stream().map(l -> l.split(" "))
                .filter(f -> byAddressOrNull(f[1]) == master).map(f -> f[0]).findFirst()
                .orElseThrow(() -> new IllegalStateException("the cluster does not list node " + master.port()));
        return lines.stream().map(l -> l.split(" "))
                .filter(f -> f[2].contains("slave") && f[3].equals(masterId) && !f[2].contains("fail"))
                .map(f -> byAddress(f[1])).filter(RedisServer::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("node " + master.port() + " has no running replica"));
    }

    /** SIGKILL of one node (no shutdown path): its replica is promoted after the node timeout. */
    public void kill(RedisServer node) {
        requireMember(node);
        node.kill();
    }

    /** Starts a killed or stopped node again on its port and data dir; it rejoins (a replaced master as replica). */
    public void restart(RedisServer node) {
        requireMember(node);
        node.restart();
    }

    /**
     * Waits until every running node says {@code cluster_state:ok} with all slots served, sees no other node as
     * failed, and every running replica is in sync with its master.
     */
    public void awaitHealthy() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        String last = "";
        while (true) {
            last = unhealthyReason();
            if (last == null) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Redis Cluster not healthy within " + READY_TIMEOUT_MS + " ms: " + last);
            }
            pause(50);
        }
    }

    private String unhealthyReason() {
        for (RedisServer n : nodes) {
            if (!n.isRunning()) {
                continue;
            }
            String info = RespCall.text(n.port(), "CLUSTER", "INFO");
            if (info == null) {
                return "node " + n.port() + " does not answer";
            }
            if (!info.contains("cluster_state:ok") || !info.contains("cluster_slots_ok:" + SLOTS)) {
                return "node " + n.port() + ": " + info.lines().limit(4).collect(Collectors.joining(" "));
            }
            for (String line : clusterNodes(n)) {
                String flags = line.split(" ")[2];
                if (flags.contains("fail") && !flags.contains("fail?") && nodeRunning(line.split(" ")[1])) {
                    return "node " + n.port() + " still sees a running node as failed: " + line;
                }
            }
            String replication = RespCall.text(n.port(), "INFO", "replication");
            if (replication == null) {
                return "node " + n.port() + " does not answer INFO";
            }
            if (replication.contains("role:slave") && !replication.contains("master_link_status:up")) {
                return "replica " + n.port() + " not in sync yet";
            }
        }
        return null;
    }

    private boolean nodeRunning(String address) {
        RedisServer n = byAddressOrNull(address);
        return n != null && n.isRunning();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (RedisServer n : nodes) {
            try {
                n.close();
            } catch (RuntimeException e) {
                log.warn("stopping cluster node {} failed", n.port(), e);
            }
        }
        Dirs.deleteQuietly(dir);
    }

    synchronized boolean isClosed() {
        return closed;
    }

    // --- creation ---

    private void createWithRedisCli(Path cli) {
        List<String> cmd = new ArrayList<>(List.of(cli.toString(), "--cluster", "create"));
        nodes.forEach(n -> cmd.add(n.host() + ":" + n.port()));
        cmd.addAll(List.of("--cluster-replicas", Integer.toString(options.replicasPerMaster()), "--cluster-yes"));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                out = r.lines().collect(Collectors.joining("\n"));
            }
            if (!p.waitFor(READY_TIMEOUT_MS, TimeUnit.MILLISECONDS) || p.exitValue() != 0 || !out.contains("[OK] All 16384 slots covered")) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-cli --cluster create failed:\n" + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cli + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the cluster");
        }
    }

    /** What redis-cli does, by hand: meet, split the slots among the masters, attach the replicas. */
    private void createWithClusterCommands() {
        try {
            RedisServer first = nodes.get(0);
            for (RedisServer n : nodes.subList(1, nodes.size())) {
                RespCall.call(n.port(), "CLUSTER", "MEET", first.host(), Integer.toString(first.port()));
            }
            int masters = options.masters();
            for (int m = 0; m < masters; m++) {
                int from = m * SLOTS / masters;
                int to = (m + 1) * SLOTS / masters;
                List<String> args = new ArrayList<>(List.of("CLUSTER", "ADDSLOTS"));
                for (int s = from; s < to; s++) {
                    args.add(Integer.toString(s));
                }
                RespCall.call(nodes.get(m).port(), args.toArray(String[]::new));
            }
            for (int i = masters; i < nodes.size(); i++) {
                String masterId = (String) RespCall.call(nodes.get(i % masters).port(), "CLUSTER", "MYID");
                awaitKnown(nodes.get(i), masterId);
                RespCall.call(nodes.get(i).port(), "CLUSTER", "REPLICATE", masterId);
            }
        } catch (IOException e) {
            throw new IllegalStateException("creating the cluster with CLUSTER commands failed: " + e);
        }
    }

    private void awaitKnown(RedisServer node, String nodeId) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        while (clusterNodes(node).stream().noneMatch(l -> l.startsWith(nodeId + " "))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("node " + node.port() + " did not learn of " + nodeId);
            }
            pause(20);
        }
    }

    // --- helpers ---

    private static List<String> clusterNodes(RedisServer n) {
        String text = RespCall.text(n.port(), "CLUSTER", "NODES");
        return text == null ? List.of() : text.lines().filter(l -> !l.isBlank()).toList();
    }

    private RedisServer anyRunning() {
        return nodes.stream().filter(RedisServer::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("no cluster node runs"));
    }

    /** {@code ip:port@cport} from CLUSTER NODES to our node. */
    private RedisServer byAddress(String address) {
        RedisServer n = byAddressOrNull(address);
        if (n == null) {
            throw new IllegalStateException("no node at " + address);
        }
        return n;
    }

    private RedisServer byAddressOrNull(String address) {
        String hostPort = address.split("@")[0];
        int port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
        return nodes.stream().filter(n -> n.port() == port).findFirst().orElse(null);
    }

    private void requireMember(RedisServer node) {
        if (!nodes.contains(node)) {
            throw new IllegalArgumentException("not a node of this cluster: " + node.port());
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the cluster");
        }
    }

    /** redis-cli next to the redis-server in use, else on PATH or in /usr/bin; null when there is none. */
    private static Path redisCli() {
        List<Path> candidates = new ArrayList<>();
        Path server = RedisServer.binary();
        if (server.getParent() != null) {
            candidates.add(server.getParent().resolve("redis-cli"));
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(java.io.File.pathSeparator)) {
                if (!d.isEmpty()) {
                    candidates.add(Path.of(d, "redis-cli"));
                }
            }
        }
        candidates.add(Path.of("/usr/bin/redis-cli"));
        return candidates.stream().filter(c -> Files.isRegularFile(c) && Files.isExecutable(c)).findFirst().orElse(null);
    }
}
