package io.tern.store.receipt;

import io.tern.protocol.frame.PayloadKind;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.RedisStore;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.DeviceHash;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Redis time per device of applying broker count records ({@link AckRepository#applyCount}), read from
 * {@code INFO commandstats} (wall time inside commands) and {@code INFO cpu} (the main thread's CPU time, the robust
 * figure on a shared machine): first with every device new (counted), then the same records again (a replay: every
 * device known to the node), then again on a node that holds none of the broadcast's set (a rebalance: it reads the
 * set from Redis). A measurement, not a test; run it against a Redis of its own (CONFIG RESETSTAT), e.g.
 * <pre>
 * redis-server --port 6391 --save '' --appendonly no --daemonize yes
 * mvn -B -q -o -pl store -am -DskipTests test-compile
 * mvn -B -q -o -pl store dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp store/target/classes:store/target/test-classes:protocol/target/classes:devstack/target/classes:\
 * $(cat /tmp/cp.txt) io.tern.store.receipt.AckCountCost redis://localhost:6391 400 256
 * </pre>
 * Arguments: Redis URI, records (default 400), devices a record (default 256, the broker's {@code recordMax}).
 */
public final class AckCountCost {
    private AckCountCost() {
    }

    /**
     * Redis's main thread's CPU time (INFO cpu, Redis 7): unlike commandstats' usec, not inflated while the OS runs
     * someone else on a shared machine.
     */
    private static double mainThreadCpuSeconds(RedisStore redis) {
        double cpu = 0;
        for (String line : redis.async().info("cpu").toCompletableFuture().join().split("\r?\n")) {
            if (line.startsWith("used_cpu_sys_main_thread:") || line.startsWith("used_cpu_user_main_thread:")) {
                cpu += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        return cpu;
    }

    public static void main(String[] args) {
        String uri = args[0];
        int records = args.length > 1 ? Integer.parseInt(args[1]) : 400;
        int perRecord = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        try (RedisStore redis = RedisStore.connect(uri, Duration.ofSeconds(30))) {
            TaskRepository tasks = new TaskRepository(redis,
                    new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
            AckRepository acks = new AckRepository(redis, Duration.ofSeconds(30), 1000, 10_000_000);
            long devices = (long) records * perRecord;
            long now = System.currentTimeMillis();
            long warmUp = now * 1000;
            long task = warmUp + 1;
            for (long id : new long[]{warmUp, task}) {
                tasks.create(new TaskBody(id, "cost", PayloadKind.DATA, "{}", now, now + 600_000, null, null, 0),
                        TaskState.SENDING).join();
                tasks.markBroadcast(id, devices * 24, 2).join();
            }
            List<AckRecord> batch = new ArrayList<>(records);
            for (int r = 0; r < records; r++) {
                long[] hashes = new long[perRecord];
                for (int d = 0; d < perRecord; d++) {
                    hashes[d] = DeviceHash.of("device-" + (r * perRecord + d));
                }
                batch.add(AckRecord.count("cost", task, now, "b1", hashes));
            }
            for (AckRecord r : batch) { // script cache and JIT
                acks.applyCount(AckRecord.count("cost", warmUp, now, "b1", r.deviceHashes())).join();
            }
            for (String phase : new String[]{"new", "replay", "replay, another node"}) {
                if (phase.endsWith("another node")) {
                    acks = new AckRepository(redis, Duration.ofSeconds(30), 1000, 10_000_000);
                }
                redis.async().configResetstat().toCompletableFuture().join();
                double cpuBefore = mainThreadCpuSeconds(redis);
                long added = 0;
                long start = System.nanoTime();
                for (AckRecord r : batch) {
                    added += acks.applyCount(r).join();
                }
                long wallNanos = System.nanoTime() - start;
                double cpu = mainThreadCpuSeconds(redis) - cpuBefore;
                String stats = redis.async().info("commandstats").toCompletableFuture().join();
                long usec = 0;
                StringBuilder lines = new StringBuilder();
                for (String line : stats.split("\r?\n")) {
                    if (!line.startsWith("cmdstat_")) {
                        continue;
                    }
                    lines.append("  ").append(line).append('\n');
                    String name = line.substring(8, line.indexOf(':'));
                    // Top-level commands: a script's usec includes the commands it calls.
                    if (name.equals("evalsha") || name.equals("eval") || name.equals("getrange")) {
                        usec += Long.parseLong(line.replaceAll(".*[:,]usec=(\\d+),.*", "$1"));
                    }
                }
                System.out.printf("%s: %d records x %d devices, added %d; commandstats %d us = %.3f us/device; "
                                + "main thread CPU %.3f us/device; wall %.1f ms%n%s", phase, records, perRecord,
                        added, usec, usec / (double) devices, cpu * 1e6 / devices, wallNanos / 1e6, lines);
            }
        }
    }
}
