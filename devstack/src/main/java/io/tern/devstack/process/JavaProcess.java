package io.tern.devstack.process;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM with this JVM's classpath running a main class under {@link WatchedMain}: it ends when this
 * JVM goes away (its stdin is our pipe) or after {@code maxLifetime}. Or, with a {@code launcher}, the
 * process a deployment runs: the role's {@code bin/tern-<role>} script on the role's own built artefact,
 * which cannot carry {@link WatchedMain}, so a {@link Reaper} ends it on the same two conditions.
 * Output (stdout and stderr) is appended to {@code logFile}. It can be stopped (SIGTERM: the main's shutdown
 * hook runs), killed (SIGKILL: nothing runs, as in a crash) and started again with the same arguments and
 * environment.
 */
public final class JavaProcess implements AutoCloseable {
    /**
     * @param jvmArgs  flags before the main class, e.g. {@code -Xmx256m}; a launcher gets them as {@code JAVA_OPTS}
     * @param env      added to (and overriding) this process's environment
     * @param launcher null: {@code java -cp <this JVM's classpath> WatchedMain mainClass}; else this script, run
     *                 with {@code args} (it names its main class itself)
     */
    public record Spec(String name, List<String> jvmArgs, String mainClass, List<String> args, Map<String, String> env,
                       Path logFile, Duration maxLifetime, Path launcher) {
        public Spec(String name, List<String> jvmArgs, String mainClass, List<String> args, Map<String, String> env,
                    Path logFile, Duration maxLifetime) {
            this(name, jvmArgs, mainClass, args, env, logFile, maxLifetime, null);
        }

        /** The same process started by {@code launcher} (e.g. {@code bin/tern-broker}) instead. */
        public Spec withLauncher(Path launcher) {
            return new Spec(name, jvmArgs, mainClass, args, env, logFile, maxLifetime, launcher);
        }
    }

    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final Spec spec;
    private Process process; // guarded by this
    private OutputStream lifeline; // guarded by this: our end of the child's stdin
    private Process reaper; // guarded by this: a launched child's lifeline, null otherwise
    private long logOffsetAtStart; // guarded by this

    private JavaProcess(Spec spec) {
        this.spec = spec;
    }

    /** Starts the child; returns at once (see {@link #awaitLogLine} and callers' own readiness checks). */
    public static JavaProcess start(Spec spec) {
        JavaProcess p = new JavaProcess(spec);
        p.launch();
        return p;
    }

    public String name() {
        return spec.name();
    }

    public Spec spec() {
        return spec;
    }

    private synchronized void launch() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(spec.name() + " is already running");
        }
        List<String> cmd = new ArrayList<>();
        if (spec.launcher() == null) {
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(spec.jvmArgs());
            cmd.add("-D" + Lifeline.MAX_LIFETIME_PROPERTY + "=" + spec.maxLifetime().toSeconds());
            cmd.add("-cp");
            cmd.add(Classpath.runtime());
            cmd.add(WatchedMain.class.getName());
            cmd.add(spec.mainClass());
        } else {
            cmd.add(spec.launcher().toString());
        }
        cmd.addAll(spec.args());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()));
        if (spec.launcher() != null) {
            pb.environment().put("JAVA_OPTS", String.join(" ", spec.jvmArgs()));
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        }
        pb.environment().putAll(spec.env());
        try {
            Files.createDirectories(spec.logFile().toAbsolutePath().getParent());
            logOffsetAtStart = Files.exists(spec.logFile()) ? Files.size(spec.logFile()) : 0;
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + spec.name() + ": " + e.getMessage(), e);
        }
        lifeline = process.getOutputStream();
        if (spec.launcher() != null) {
            reaper = Reaper.arm(process.pid(), spec.maxLifetime());
        }
    }

    /** Starts it again, same arguments; it must not be running. */
    public void restart() {
        launch();
    }

    public synchronized long pid() {
        return process.pid();
    }

    public synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    /** Waits up to {@code timeout} for the process to end by itself; its exit status, or empty if it still runs. */
    public OptionalInt awaitExit(Duration timeout) {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (!waitFor(p, timeout)) {
            return OptionalInt.empty();
        }
        closeLifeline();
        return OptionalInt.of(p.exitValue());
    }

    /** Everything it wrote since the last (re)start. */
    public String output() {
        return logSinceStart();
    }

    /** SIGKILL (on Linux {@link Process#destroyForcibly} is exactly that): no shutdown hook runs. Waits for the exit. */
    public void kill() {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p == null) {
            return;
        }
        p.destroyForcibly();
        waitFor(p, Duration.ofSeconds(10));
        closeLifeline();
    }

    /** SIGTERM, so the main's shutdown hook runs; SIGKILL after {@code grace}. */
    public void stop(Duration grace) {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p == null) {
            return;
        }
        p.destroy();
        if (!waitFor(p, grace)) {
            p.destroyForcibly();
            waitFor(p, Duration.ofSeconds(10));
        }
        closeLifeline();
    }

    /**
     * Waits for a line containing {@code marker} written since the last (re)start; fails early when the
     * child exits.
     */
    public void awaitLogLine(String marker, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (logSinceStart().contains(marker)) {
                return;
            }
            if (!alive()) {
                throw new IllegalStateException(spec.name() + " exited before printing '" + marker + "'; see "
                        + spec.logFile());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(spec.name() + " did not print '" + marker + "' within " + timeout
                        + "; see " + spec.logFile());
            }
            pause(100);
        }
    }

    private String logSinceStart() {
        long from;
        synchronized (this) {
            from = logOffsetAtStart;
        }
        try (RandomAccessFile f = new RandomAccessFile(spec.logFile().toFile(), "r")) {
            long len = f.length();
            if (len <= from) {
                return "";
            }
            byte[] buf = new byte[(int) Math.min(len - from, 4 << 20)];
            f.seek(from);
            f.readFully(buf);
            return new String(buf, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private synchronized void closeLifeline() {
        Reaper.disarm(reaper);
        reaper = null;
        if (lifeline != null) {
            try {
                lifeline.close();
            } catch (IOException e) {
                // child gone already
            }
            lifeline = null;
        }
    }

    private static boolean waitFor(Process p, Duration d) {
        try {
            return p.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return false;
        }
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        stop(STOP_GRACE);
    }
}
