package io.tern.ratecontrol.scale;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Stands in for the bypass consumer's main in {@link LocalProcessesIT} and {@link LocalScalingIT}: records its start and, from its shutdown
 * hook (which SIGTERM runs), its orderly stop in {@code MARKER_DIR} when set; with {@code STUBBORN=true} its hook never
 * returns, so only a kill ends it.
 */
public final class StandInConsumerMain {
    private StandInConsumerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getenv("MARKER_DIR") == null) {
            new CountDownLatch(1).await(); // started by a controller: only its process counts
        }
        Path dir = Path.of(System.getenv("MARKER_DIR"));
        String id = System.getenv("TERN_BYPASS_ID");
        boolean stubborn = Boolean.parseBoolean(System.getenv("STUBBORN"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.writeString(dir.resolve(id + ".stopped"), "");
                if (stubborn) {
                    new CountDownLatch(1).await();
                }
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }));
        Files.writeString(dir.resolve(id + ".started"), Long.toString(ProcessHandle.current().pid()));
        new CountDownLatch(1).await();
    }
}
