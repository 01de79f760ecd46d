package io.tern.loadtest.process;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.devstack.process.Lifeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The child side of the runner ↔ child protocol: commands arrive one per line on stdin, reports
 * leave as one JSON object per line on stdout. A child never outlives its runner: when stdin
 * closes (the runner exited, was killed, or closed it on purpose) the child exits, and every child
 * exits anyway after {@link Lifeline#MAX_LIFETIME_PROPERTY} seconds.
 */
public final class ChildIo {
    public static final ObjectMapper JSON = new ObjectMapper();

    private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
            false, StandardCharsets.UTF_8);

    private ChildIo() {
    }

    /**
     * Reads stdin on a daemon thread, handing each line to {@code commands}; at end of input runs
     * {@code onEof} (which should end the process). Also arms the lifetime limit.
     */
    public static void listen(Consumer<String> commands, Runnable onEof) {
        armLifetimeLimit();
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    String cmd = line.trim();
                    if (!cmd.isEmpty()) {
                        try {
                            commands.accept(cmd);
                        } catch (RuntimeException e) {
                            System.err.println("command '" + cmd + "' failed: " + e);
                            e.printStackTrace();
                        }
                    }
                }
            } catch (IOException e) {
                // stdin broken: same as closed
            }
            onEof.run();
        }, "loadtest-stdin");
        t.setDaemon(true);
        t.start();
    }

    /** Exits (running shutdown hooks, then halting if they hang) once the lifetime is over. */
    public static void armLifetimeLimit() {
        Lifeline.armLifetimeLimit();
    }

    /** {@link System#exit} with a watchdog that halts if shutdown hooks hang. */
    public static void exit(int status) {
        Lifeline.exit(status);
    }

    public static ObjectNode message(String type) {
        return JSON.createObjectNode().put("type", type);
    }

    /** Writes one JSON line to stdout (the runner's pipe). Thread-safe. */
    public static void emit(ObjectNode message) {
        String line = message.toString();
        synchronized (OUT) {
            OUT.println(line);
            OUT.flush();
        }
    }
}
