package io.tern.ratecontrol.scale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dev-mode scaling with real child JVMs. The bypass consumer's main is another helper's part and not on this
 * module's classpath yet, so a stand-in main from the test classpath plays it: what is under test is starting,
 * bounding, SIGTERM and kill.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LocalProcessesIT {
    @TempDir
    Path dir;

    private LocalProcesses processes(boolean stubborn, Duration stopWait) {
        return new LocalProcesses(StandInConsumerMain.class.getName(),
                Map.of("MARKER_DIR", dir.toString(), "STUBBORN", Boolean.toString(stubborn)), "it", 2, stopWait, dir);
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    @Test
    void startsBoundedChildrenAndStopsThemWithSigterm() {
        try (LocalProcesses local = processes(false, Duration.ofSeconds(30))) {
            assertEquals(2, local.setReplicas(3), "bounded by max");
            assertEquals(2, local.replicas());
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("it-1.started"))
                    && Files.exists(dir.resolve("it-2.started")));
            List<Long> pids = local.pids();
            assertTrue(pids.stream().allMatch(LocalProcessesIT::alive));

            assertEquals(1, local.setReplicas(1));
            assertFalse(alive(pids.get(1)), "the newest child was stopped");
            assertTrue(Files.exists(dir.resolve("it-2.stopped")), "by SIGTERM: its shutdown hook ran");
            assertTrue(alive(pids.get(0)));

            local.close();
            assertFalse(alive(pids.get(0)));
            assertTrue(Files.exists(dir.resolve("it-1.stopped")));
            assertEquals(0, local.replicas());
        }
    }

    @Test
    void aChildThatIgnoresSigtermIsKilledAfterTheWait() {
        LocalProcesses local = processes(true, Duration.ofSeconds(1));
        local.setReplicas(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("it-1.started")));
        long pid = local.pids().get(0);
        local.close();
        assertTrue(Files.exists(dir.resolve("it-1.stopped")), "SIGTERM came first");
        assertFalse(alive(pid), "then the kill");
    }

    @Test
    void aChildThatDiedIsNotCountedSoTheNextDecisionReplacesIt() {
        try (LocalProcesses local = processes(false, Duration.ofSeconds(30))) {
            local.setReplicas(1);
            long pid = local.pids().get(0);
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            await().atMost(Duration.ofSeconds(30)).until(() -> local.replicas() == 0);
            assertEquals(1, local.setReplicas(1));
            assertTrue(local.pids().get(0) != pid);
        }
    }
}
