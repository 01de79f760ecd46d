package io.tern.runtime.main;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * The one way a role process starts: {@code [--config path | path]}, else {@code $TERN_CONFIG}, then
 * {@code TERN_*} environment variables; a bad configuration exits with status 2 before anything binds;
 * SIGTERM (or Ctrl-C) runs the role's {@code close()} and the JVM exits once it has returned. Each
 * role's main ({@code BrokerMain}, {@code DispatcherMain}, {@code LogicNodeMain}) and {@code ternctl run}
 * come through here.
 */
public final class RoleMain {
    private RoleMain() {
    }

    /**
     * @param role   name for messages and the shutdown thread, e.g. {@code broker}
     * @param config reads and validates the role's config record
     * @param start  starts the role; its {@code close()} is the orderly stop
     */
    public static <C> void run(String role, String[] args, Function<Settings, C> config,
                               Function<C, ? extends AutoCloseable> start) {
        C c;
        try {
            c = config.apply(Settings.load(configFile(args), System.getenv(), Map.of()));
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println(role + ": invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        AutoCloseable running;
        try {
            running = start.apply(c);
        } catch (RuntimeException e) {
            // E.g. Redis unreachable or a port taken: say so and exit, leaving no half-started threads behind.
            System.err.println(role + ": cannot start: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                running.close();
            } catch (Exception e) {
                System.err.println(role + ": stopping failed: " + e);
            } finally {
                stopped.countDown();
            }
        }, "tern-" + role + "-shutdown"));
        // Netty's and the clients' threads are daemons: the main thread keeps the JVM up until close() returns.
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code --config path}, {@code --config=path} or a lone {@code path}; null when none is given. */
    static Path configFile(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--config")) {
                if (i + 1 >= args.length) {
                    throw new ConfigException("--config needs a file");
                }
                return Path.of(args[i + 1]);
            }
            if (a.startsWith("--config=")) {
                return Path.of(a.substring("--config=".length()));
            }
        }
        if (args.length == 1 && !args[0].startsWith("-")) {
            return Path.of(args[0]);
        }
        if (args.length > 0) {
            throw new ConfigException("unexpected arguments " + String.join(" ", args) + " (expected [--config file])");
        }
        return null;
    }
}
