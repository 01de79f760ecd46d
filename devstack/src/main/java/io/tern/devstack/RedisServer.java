package io.tern.devstack;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real redis-server run as a child process on 127.0.0.1, for dev mode and integration tests.
 *
 * <p>The binary is the first of: system property {@value #BINARY_PROPERTY}, {@code redis-server} on PATH,
 * /usr/bin or /usr/local/bin, else the one bundled in the {@code com.github.codemonstur:embedded-redis} jar.
 * Nothing is registered globally: the caller closes the server.
 */
public final class RedisServer implements AutoCloseable {
    /** Explicit path to a redis-server binary; wins over PATH and the bundled one. */
    public static final String BINARY_PROPERTY = "tern.devstack.redis-server";

    private static final Logger log = LoggerFactory.getLogger(RedisServer.class);
    private static final Logger serverLog = LoggerFactory.getLogger("io.tern.devstack.redis-server");
    private static final long START_TIMEOUT_MS = 10_000;
    private static final long STOP_TIMEOUT_MS = 5_000;
    private static final int OUTPUT_LINES_KEPT = 60;
    private static final int START_ATTEMPTS_ON_FREE_PORT = 3;

    private static Path binary; // guarded by RedisServer.class

    /**
     * @param port       0 picks a free port
     * @param appendOnly AOF on (fsync as {@code appendFsync} says)
     * @param dataDir    null means a fresh temp dir, deleted on close
     * @param password   null: no AUTH; else the server requires it ({@code requirepass}) and {@link #uri()} carries it
     * @param appendFsync the AOF's {@code appendfsync}: {@code always} (default: each write is on disk before Redis
     *                    answers, so an accepted message survives even a machine crash), {@code everysec} or {@code no}
     * @param clusterNodeTimeoutMs 0: a standalone server; else {@code cluster-enabled yes} with this
     *                    {@code cluster-node-timeout} (how long a silent master stays a master), see {@link RedisCluster}
     */
    public record Options(int port, boolean appendOnly, Path dataDir, String password, String appendFsync,
                          int clusterNodeTimeoutMs) {
        public Options {
            if (!List.of("always", "everysec", "no").contains(appendFsync)) {
                throw new IllegalArgumentException("appendFsync must be always, everysec or no, was " + appendFsync);
            }
            if (clusterNodeTimeoutMs < 0) {
                throw new IllegalArgumentException("clusterNodeTimeoutMs must be >= 0, was " + clusterNodeTimeoutMs);
            }
        }

        public static Options defaults() {
            return new Options(0, false, null, null, "always", 0);
        }

        public Options withPort(int port) {
            return new Options(port, appendOnly, dataDir, password, appendFsync, clusterNodeTimeoutMs);
        }

        public Options withAppendOnly(boolean appendOnly) {
            return new Options(port, appendOnly, dataDir, password, appendFsync, clusterNodeTimeoutMs);
        }

        public Options withDataDir(Path dataDir) {
            return new Options(port, appendOnly, dataDir, password, appendFsync, clusterNodeTimeoutMs);
        }

        public Options withPassword(String password) {
            return new Options(port, appendOnly, dataDir, password, appendFsync, clusterNodeTimeoutMs);
        }

        public Options withAppendFsync(String appendFsync) {
            return new Options(port, appendOnly, dataDir, password, appendFsync, clusterNodeTimeoutMs);
        }

        public Options withClusterNodeTimeoutMs(int clusterNodeTimeoutMs) {
            return new Options(port, appendOnly, dataDir, password, appendFsync, clusterNodeTimeoutMs);
        }

        @Override
        public String toString() {
            return "Options[port=" + port + ", appendOnly=" + appendOnly + ", appendFsync=" + appendFsync
                    + (clusterNodeTimeoutMs == 0 ? "" : ", clusterNodeTimeoutMs=" + clusterNodeTimeoutMs) + ", dataDir="
                    + dataDir + ", password=" + (password == null ? "none" : "****") + "]";
        }
    }

    private final Path executable;
    private final Options options;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private final ArrayDeque<String> output = new ArrayDeque<>(); // guarded by itself
    private volatile int port;
    private Process process; // guarded by this
    private Thread drainer; // guarded by this
    private boolean closed; // guarded by this

    private RedisServer(Path executable, Options options, Path dataDir, boolean ownsDataDir) {
        this.executable = executable;
        this.options = options;
        this.dataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
    }

    public static RedisServer start(Options o) {
        Path bin = binary();
        boolean ownsDir = o.dataDir() == null;
        Path dir;
        try {
            dir = ownsDir ? Dirs.temp("tern-redis-") : Files.createDirectories(o.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create Redis data dir " + o.dataDir(), e);
        }
        RedisServer server = new RedisServer(bin, o, dir, ownsDir);
        try {
            synchronized (server) {
                server.launch(o.port());
            }
        } catch (RuntimeException e) {
            if (ownsDir) {
                Dirs.deleteQuietly(dir);
            }
            throw e;
        }
        return server;
    }

    public String host() {
        return Ports.HOST;
    }

    public int port() {
        return port;
    }

    /** {@code redis://host:port}, or {@code redis://:password@host:port} when the server requires a password. */
    public String uri() {
        return "redis://" + (options.password() == null ? "" : ":" + urlEncode(options.password()) + "@") + Ports.HOST + ":" + port;
    }

    private static String urlEncode(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The redis-server process id, or -1 while it is not running. */
    public synchronized long pid() {
        return process != null && process.isAlive() ? process.pid() : -1;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Clean stop (SHUTDOWN NOSAVE, which still flushes the AOF); keeps port and data dir for {@link #restart()}. */
    public synchronized void stop() {
        stopProcess();
    }

    /** Crash stand-in: SIGKILL, no shutdown path. Data written since the last fsync may be lost. */
    public synchronized void kill() {
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        p.destroyForcibly();
        awaitExit(p, STOP_TIMEOUT_MS);
        joinDrainer();
        log.info("redis-server on port {} killed", port);
    }

    /** Stops the server if it runs, then starts it again on the same port and data dir. */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        stopProcess();
        launch(port);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopProcess();
        if (ownsDataDir) {
            Dirs.deleteQuietly(dataDir);
        }
    }

    synchronized boolean isClosed() {
        return closed;
    }

    // --- process lifecycle ---

    private void launch(int requestedPort) {
        int attempts = requestedPort == 0 ? START_ATTEMPTS_ON_FREE_PORT : 1;
        for (int attempt = 1; ; attempt++) {
            int p = requestedPort == 0 ? Ports.free() : requestedPort;
            try {
                spawnAndAwaitPong(p);
                port = p;
                log.info("redis-server up at {} (appendonly={}, dir={})",
                        "redis://" + Ports.HOST + ":" + p, options.appendOnly(), dataDir);
                return;
            } catch (StartFailure e) {
                // The free port can be taken between our probe and redis binding it; a new one fixes that.
                if (attempt < attempts && e.getMessage().contains("Address already in use")) {
                    log.info("port {} was taken before redis-server bound it; retrying", p);
                    continue;
                }
                throw new IllegalStateException(e.getMessage());
            }
        }
    }

    private void spawnAndAwaitPong(int p) throws StartFailure {
        synchronized (output) {
            output.clear();
        }
        List<String> cmd = new ArrayList<>(List.of(
                executable.toString(),
                "--port", Integer.toString(p),
                "--bind", Ports.HOST,
                "--save", "",
                "--appendonly", options.appendOnly() ? "yes" : "no",
                "--appendfsync", options.appendFsync(),
                "--dir", dataDir.toAbsolutePath().toString(),
                "--protected-mode", "no",
                "--daemonize", "no"));
        if (options.clusterNodeTimeoutMs() > 0) {
            cmd.addAll(List.of(
                    "--cluster-enabled", "yes",
                    // In the data dir, so a restarted node comes back with its id, slots and role.
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", Integer.toString(options.clusterNodeTimeoutMs()),
                    // The other masters keep serving their slots while one master's replica is being promoted.
                    "--cluster-require-full-coverage", "no"));
        }
        if (options.password() != null) {
            // In a config file, not on the command line, where any local user would read it in the process list.
            cmd.add(1, writePasswordConfig().toString());
        }
        Process proc;
        try {
            proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new StartFailure("cannot run " + executable + ": " + e);
        }
        process = proc;
        drainer = startDrainer(proc, p);

        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        try {
            while (true) {
                if (ping(p, options.password())) {
                    return;
                }
                // Doubles as the pause between probes and the check that the process still lives.
                if (proc.waitFor(20, TimeUnit.MILLISECONDS)) {
                    joinDrainer();
                    process = null;
                    throw new StartFailure("redis-server exited with " + proc.exitValue()
                            + " before answering PING on port " + p + ". Output:\n" + outputText());
                }
                if (System.nanoTime() > deadline) {
                    proc.destroyForcibly();
                    awaitExit(proc, STOP_TIMEOUT_MS);
                    joinDrainer();
                    process = null;
                    throw new StartFailure("redis-server did not answer PING on port " + p + " within "
                            + START_TIMEOUT_MS + " ms. Output:\n" + outputText());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            proc.destroyForcibly();
            process = null;
            throw new StartFailure("interrupted while starting redis-server");
        }
    }

    private void stopProcess() {
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        if (p.isAlive()) {
            sendShutdownNoSave();
            if (!awaitExit(p, STOP_TIMEOUT_MS)) {
                log.warn("redis-server on port {} ignored SHUTDOWN; destroying it", port);
                p.destroy();
                if (!awaitExit(p, STOP_TIMEOUT_MS)) {
                    p.destroyForcibly();
                    awaitExit(p, STOP_TIMEOUT_MS);
                }
            }
        }
        joinDrainer();
        log.info("redis-server on port {} stopped", port);
    }

    private void sendShutdownNoSave() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(Ports.HOST, port), 1_000);
            s.setSoTimeout(2_000);
            s.getOutputStream().write((auth(options.password()) + "SHUTDOWN NOSAVE\r\n").getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            // Redis closes the connection when it goes down; reading to EOF waits for that without polling.
            InputStream in = s.getInputStream();
            while (in.read() >= 0) {
                // discard
            }
        } catch (IOException e) {
            log.debug("SHUTDOWN NOSAVE on port {}: {}", port, e.toString());
        }
    }

    private static boolean awaitExit(Process p, long timeoutMs) {
        try {
            return p.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        }
    }

    /** One PING over a plain socket (after AUTH when a password is set); false on anything but +PONG. */
    static boolean ping(int port, String password) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(Ports.HOST, port), 250);
            s.setSoTimeout(1_000);
            OutputStream out = s.getOutputStream();
            out.write((auth(password) + "PING\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            if (password != null && !"+OK".equals(in.readLine())) {
                return false;
            }
            return "+PONG".equals(in.readLine());
        } catch (IOException e) {
            return false;
        }
    }

    /** An AUTH command in RESP (the password may hold any character), or nothing without a password. */
    private static String auth(String password) {
        if (password == null) {
            return "";
        }
        int len = password.getBytes(StandardCharsets.UTF_8).length;
        return "*2\r\n$4\r\nAUTH\r\n$" + len + "\r\n" + password + "\r\n";
    }

    /** A config file readable by this user only, holding {@code requirepass}. */
    private Path writePasswordConfig() throws StartFailure {
        String pw = options.password();
        if (pw.contains("\"") || pw.contains("\\") || pw.contains("\n") || pw.contains("\r")) {
            throw new StartFailure("the Redis password must not contain quotes, backslashes or line breaks");
        }
        Path conf = dataDir.resolve("tern-auth.conf");
        try {
            Files.deleteIfExists(conf);
            Files.createFile(conf, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(conf, "requirepass \"" + pw + "\"\n");
        } catch (IOException e) {
            throw new StartFailure("cannot write " + conf + ": " + e);
        }
        return conf.toAbsolutePath();
    }

    // --- output draining: the pipe must never fill, or redis-server blocks on its own log writes ---

    private Thread startDrainer(Process proc, int p) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (output) {
                        if (output.size() == OUTPUT_LINES_KEPT) {
                            output.removeFirst();
                        }
                        output.addLast(line);
                    }
                    // Mostly banner and notices, repeated on every start; a failed start puts them in its exception.
                    serverLog.debug("[{}] {}", p, line);
                }
            } catch (IOException e) {
                serverLog.debug("[{}] output closed: {}", p, e.toString());
            }
        }, "redis-server-output-" + p);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void joinDrainer() {
        Thread t = drainer;
        drainer = null;
        if (t != null) {
            try {
                t.join(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private String outputText() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    // --- binary lookup ---

    static synchronized Path binary() {
        if (binary == null) {
            binary = findBinary();
        }
        return binary;
    }

    private static Path findBinary() {
        String explicit = System.getProperty(BINARY_PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isExecutable(p)) {
                throw new IllegalStateException(BINARY_PROPERTY + "=" + explicit + " is not an executable file");
            }
            log.info("using redis-server from -D{}: {}", BINARY_PROPERTY, p);
            return p;
        }
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, "redis-server"));
                }
            }
        }
        candidates.add(Path.of("/usr/bin/redis-server"));
        candidates.add(Path.of("/usr/local/bin/redis-server"));
        for (Path c : candidates) {
            if (Files.isRegularFile(c) && Files.isExecutable(c)) {
                log.info("using installed redis-server: {}", c);
                return c;
            }
        }
        Path extracted = extractBundled();
        log.info("no redis-server installed; using the one bundled in embedded-redis: {}", extracted);
        return extracted;
    }

    private static Path extractBundled() {
        String resource = bundledResourceName();
        try (InputStream in = RedisServer.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("no redis-server installed and " + resource
                        + " not on the classpath (com.github.codemonstur:embedded-redis missing?)");
            }
            Path file = Files.createTempFile("tern-redis-server-", "");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract bundled " + resource, e);
        }
    }

    private static String bundledResourceName() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
        boolean arm64 = arch.equals("aarch64") || arch.equals("arm64");
        if (os.contains("linux") && x64) {
            return "redis-server-6.2.6-v5-linux-amd64";
        }
        if (os.contains("linux") && arm64) {
            return "redis-server-6.2.7-linux-arm64";
        }
        if (os.contains("mac") && x64) {
            return "redis-server-6.2.6-v5-darwin-amd64";
        }
        if (os.contains("mac") && arm64) {
            return "redis-server-6.2.6-v5-darwin-arm64";
        }
        throw new IllegalStateException("no redis-server installed and none bundled for " + os + "/" + arch
                + "; install redis-server or set -D" + BINARY_PROPERTY);
    }

    /** Internal: a failed start attempt, with the process output in the message. */
    private static final class StartFailure extends Exception {
        StartFailure(String message) {
            super(message, null, false, false);
        }
    }
}
