package io.tern.devstack.process;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;

/**
 * The lifeline of a child that cannot carry {@link Lifeline} itself (redis-server; a role started from its
 * artefact): a shell whose stdin is our pipe SIGKILLs the child's pid when this JVM dies or after
 * {@code maxLifetime}, whichever comes first. Disarm it (end the shell) before the child is stopped or killed
 * on purpose, so its kill never names a pid that is gone.
 */
final class Reaper {
    private static final Logger log = LoggerFactory.getLogger(Reaper.class);

    private Reaper() {
    }

    /** @return the reaper shell, or null (logged) when none could be started */
    static Process arm(long pid, Duration maxLifetime) {
        try {
            return new ProcessBuilder("sh", "-c", "timeout " + maxLifetime.toSeconds()
                    + " cat > /dev/null; kill -9 " + pid + " 2>/dev/null")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            log.warn("no reaper for pid {}: {}", pid, e.toString());
            return null;
        }
    }

    /** Ends the reaper without it killing anything; null is a no-op. */
    static void disarm(Process reaper) {
        if (reaper != null) {
            reaper.destroyForcibly();
        }
    }
}
