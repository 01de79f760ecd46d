package io.tern.loadtest.process;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sorts a JVM's threads (kernel names, digits folded to N) into who they work for: the JIT
 * compiler, the garbage collector, the in-process Kafka broker (the runner's JVM hosts one), or
 * the application itself. Used to say where a process's CPU went, e.g. "platform: app 60 %, kafka
 * 20 %, jit 35 %".
 */
public final class ThreadRoles {
    private static final List<String> KAFKA_BROKER = List.of("data-plane", "kafka-N-", "group-coordinat", "quorum",
            "broker-N-", "ExpirationReape", "kafka-log-clea", "executor-", "LogDirFailure", "controller-",
            "share-coordinat", "transaction-", "kafka-schedule", "raft", "metrics-meter", "ReplicaFetcher",
            "TxnMarker", "kafka-request", "kafka-network", "feature-", "persister-", "remote-log",
            "ClientQuotaMana", "ThrottledChanne", "SocketServer", "kafka-shutdown", "admin-client-");

    private ThreadRoles() {
    }

    public static String role(String thread) {
        if (thread.contains("CompilerThre") || thread.startsWith("Sweeper")) {
            return "jit";
        }
        if (thread.startsWith("GC Thread") || thread.startsWith("GN ") || thread.equals("VM Thread")
                || thread.startsWith("G1 ") || thread.startsWith("VM Periodic")) {
            return "gc+vm";
        }
        for (String k : KAFKA_BROKER) {
            if (thread.startsWith(k)) {
                return "kafka";
            }
        }
        return "app";
    }

    /** Ticks per role, in a fixed order (app, kafka, jit, gc+vm). */
    public static Map<String, Long> byRole(Map<String, Long> ticksByThread) {
        Map<String, Long> out = new LinkedHashMap<>();
        out.put("app", 0L);
        out.put("kafka", 0L);
        out.put("jit", 0L);
        out.put("gc+vm", 0L);
        ticksByThread.forEach((t, v) -> out.merge(role(t), v, Long::sum));
        return out;
    }
}
