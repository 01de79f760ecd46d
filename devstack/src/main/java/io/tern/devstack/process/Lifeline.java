package io.tern.devstack.process;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;

/**
 * What keeps a child JVM from outliving the process that started it: the child exits when its stdin
 * closes (the parent exited, was killed with SIGKILL, or closed the pipe on purpose) and, whatever
 * happens, once {@value #MAX_LIFETIME_PROPERTY} seconds have passed. Exits go through
 * {@link System#exit}, so the child's shutdown hooks (a role's orderly close) still run, with a halt
 * after {@link #HALT_AFTER_SECONDS} s if they hang.
 */
public final class Lifeline {
    /** System property: seconds after which the child exits whatever happens (default 900). */
    public static final String MAX_LIFETIME_PROPERTY = "tern.max-lifetime-seconds";
    static final long HALT_AFTER_SECONDS = 20;

    private Lifeline() {
    }

    /** Arms both limits: stdin end and the lifetime. */
    public static void armAll() {
        armLifetimeLimit();
        Thread t = new Thread(() -> {
            try {
                InputStream in = System.in;
                byte[] buf = new byte[256];
                while (in.read(buf) >= 0) {
                    // the parent sends nothing we need; only the end of the pipe matters
                }
            } catch (IOException e) {
                // broken pipe: the same as closed
            }
            exit(0);
        }, "tern-lifeline-stdin");
        t.setDaemon(true);
        t.start();
    }

    /** Exits once {@value #MAX_LIFETIME_PROPERTY} seconds (default 900) have passed. */
    public static void armLifetimeLimit() {
        long seconds = Long.getLong(MAX_LIFETIME_PROPERTY, 900);
        Thread t = new Thread(() -> {
            try {
                TimeUnit.SECONDS.sleep(seconds);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("max lifetime of " + seconds + " s reached; exiting");
            exit(0);
        }, "tern-lifeline-limit");
        t.setDaemon(true);
        t.start();
    }

    /** {@link System#exit} with a watchdog: halts if shutdown hooks take more than 20 s. */
    public static void exit(int status) {
        Thread halt = new Thread(() -> {
            try {
                TimeUnit.SECONDS.sleep(HALT_AFTER_SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            Runtime.getRuntime().halt(status);
        }, "tern-lifeline-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(status);
    }
}
