package io.tern.loadtest.process;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.process.Classpath;
import io.tern.devstack.process.Lifeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A child JVM of the runner, started with this JVM's classpath. Its stdin stays open for commands
 * (closing it ends the child: see {@link ChildIo}); its stdout is read as JSON lines, the latest
 * line of each {@code type} kept for {@link #latest}; stderr (and stdout lines that are not JSON)
 * go to a log file in the run directory.
 */
public final class ChildProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Writer stdin;
    private final Writer log;
    private final Map<String, JsonNode> latest = new ConcurrentHashMap<>();
    private final Map<String, Consumer<JsonNode>> listeners = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    private volatile boolean exited;

    private ChildProcess(String name, Process process, Writer log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::readStdout, "loadtest-" + name + "-stdout");
        reader.setDaemon(true);
        reader.start();
        process.onExit().thenRun(() -> {
            exited = true;
            synchronized (lock) {
                lock.notifyAll();
            }
        });
    }

    /**
     * @param jvmArgs   flags before the main class, e.g. {@code -Xmx1g}
     * @param mainClass the child's main class
     * @param env       added to (and overriding) this process's environment
     * @param logFile   stderr, and stdout lines that are not JSON
     */
    public static ChildProcess start(String name, List<String> jvmArgs, String mainClass, List<String> args,
                                     Map<String, String> env, Path logFile, long maxLifetimeSeconds) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-D" + Lifeline.MAX_LIFETIME_PROPERTY + "=" + maxLifetimeSeconds);
        cmd.add("-cp");
        cmd.add(Classpath.runtime());
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        pb.environment().putAll(env);
        try {
            Files.createDirectories(logFile.getParent());
            Writer log = Files.newBufferedWriter(logFile.resolveSibling(logFile.getFileName() + ".out"), StandardCharsets.UTF_8);
            return new ChildProcess(name, pb.start(), log);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    private void readStdout() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode node = null;
                if (line.startsWith("{")) {
                    try {
                        node = ChildIo.JSON.readTree(line);
                    } catch (IOException e) {
                        node = null;
                    }
                }
                if (node != null && node.hasNonNull("type")) {
                    String type = node.get("type").asText();
                    latest.put(type, node);
                    Consumer<JsonNode> l = listeners.get(type);
                    if (l != null) {
                        l.accept(node);
                    }
                    synchronized (lock) {
                        lock.notifyAll();
                    }
                } else {
                    synchronized (log) {
                        log.write(line);
                        log.write('\n');
                        log.flush();
                    }
                }
            }
        } catch (IOException e) {
            // child gone
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** The last JSON line of this type, or null. */
    public JsonNode latest(String type) {
        return latest.get(type);
    }

    /**
     * Hands every later line of {@code type} to {@code listener}, on the reader thread (keep it short), for lines
     * that must not be missed when several come between two looks at {@link #latest}.
     */
    public void onLine(String type, Consumer<JsonNode> listener) {
        listeners.put(type, listener);
    }

    public void forget(String type) {
        latest.remove(type);
    }

    /** Waits for a line of {@code type} that satisfies {@code test}. */
    public JsonNode await(String type, Predicate<JsonNode> test, Duration timeout) throws TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                JsonNode n = latest.get(type);
                if (n != null && test.test(n)) {
                    return n;
                }
                if (exited) {
                    throw new IllegalStateException(name + " exited with status " + process.exitValue()
                            + " while waiting for '" + type + "' (see its log)");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException(name + ": no '" + type + "' line within " + timeout);
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TimeoutException("interrupted");
                }
            }
        }
    }

    /** Sends one command line. */
    public void send(String command) {
        try {
            synchronized (stdin) {
                stdin.write(command);
                stdin.write('\n');
                stdin.flush();
            }
        } catch (IOException e) {
            throw new IllegalStateException(name + " does not take commands (exited?): " + e.getMessage(), e);
        }
    }

    /** Closes stdin (the child exits), waits up to {@code grace}, then kills it. */
    public void stop(Duration grace) {
        try {
            stdin.close();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroy();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try {
            synchronized (log) {
                log.close();
            }
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(10));
    }
}
