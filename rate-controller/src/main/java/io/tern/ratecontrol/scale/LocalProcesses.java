package io.tern.ratecontrol.scale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Dev mode: the bypass consumers as child processes of this controller, {@code java -cp <this JVM's classpath>
 * <main>} with the given environment (each its own id, admin port 0). At most {@code max} run whatever the
 * target. A child that died is not counted, so the next decision starts a new one. Stopping sends SIGTERM
 * (the child drains and commits), then kills what is still there after {@code stopWait}; closing stops them all.
 */
public final class LocalProcesses implements ReplicaTarget {
    private static final Logger log = LoggerFactory.getLogger(LocalProcesses.class);

    private final String mainClass;
    private final Map<String, String> env;
    private final String idPrefix;
    private final int max;
    private final Duration stopWait;
    private final Path logDir;
    /** Newest last; the newest are stopped first. Touched only under this object's lock. */
    private final Deque<Process> children = new ArrayDeque<>();
    private int started;
    private boolean closed;

    /**
     * @param env      environment of each child on top of this process's (config of the consumer)
     * @param idPrefix each child gets {@code TERN_BYPASS_ID=<idPrefix>-<n>}
     * @param logDir   each child's output goes to {@code <logDir>/<id>.log}
     */
    public LocalProcesses(String mainClass, Map<String, String> env, String idPrefix, int max, Duration stopWait,
                          Path logDir) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1, got " + max);
        }
        this.mainClass = mainClass;
        this.env = Map.copyOf(env);
        this.idPrefix = idPrefix;
        this.max = max;
        this.stopWait = stopWait;
        this.logDir = logDir;
    }

    @Override
    public synchronized int replicas() {
        children.removeIf(p -> !p.isAlive());
        return children.size();
    }

    @Override
    public synchronized int setReplicas(int replicas) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        int want = Math.max(0, Math.min(replicas, max));
        children.removeIf(p -> !p.isAlive());
        while (children.size() < want) {
            children.addLast(startOne());
        }
        List<Process> surplus = new java.util.ArrayList<>();
        while (children.size() > want) {
            surplus.add(children.removeLast());
        }
        stop(surplus);
        return children.size();
    }

    private Process startOne() {
        String id = idPrefix + "-" + (++started);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), mainClass);
        pb.environment().putAll(env);
        pb.environment().put("TERN_BYPASS_ID", id);
        File out = logDir.resolve(id + ".log").toFile();
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(out));
        try {
            Process p = pb.start();
            log.info("[scale local] started {} (pid {}), output in {}", id, p.pid(), out);
            return p;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + mainClass + ": " + e.getMessage(), e);
        }
    }

    /** SIGTERM to each, then SIGKILL to those still running after {@code stopWait}. */
    private void stop(List<Process> processes) {
        processes.forEach(Process::destroy);
        long deadline = System.nanoTime() + stopWait.toNanos();
        for (Process p : processes) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
                    log.warn("[scale local] pid {} still running {} after SIGTERM: killing it", p.pid(), stopWait);
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
            log.info("[scale local] stopped pid {}", p.pid());
        }
    }

    /** The pids running now, oldest first (tests, status). */
    public synchronized List<Long> pids() {
        return children.stream().filter(Process::isAlive).map(Process::pid).toList();
    }

    @Override
    public String describe() {
        return "local processes of " + mainClass + " (at most " + max + ")";
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Process> all = List.copyOf(children);
        children.clear();
        stop(all);
    }
}
