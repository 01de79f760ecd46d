package io.tern.diskkv;

import io.tern.devstack.Ports;
import io.tern.devstack.SharedInfra;
import io.tern.devstack.process.JavaProcess;
import io.tern.runtime.config.Settings;
import io.tern.store.diskkv.DiskKv;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static io.tern.diskkv.BackupFixture.AWAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backup as its own OS process ({@link DiskKvBackupMain}, a child JVM), SIGKILLed while bodies stream in:
 * started again, it reads what it had not committed and every body produced before, during and after the kill is
 * in the disk KV.
 */
class BackupKillIT {
    private static final Logger log = LoggerFactory.getLogger(BackupKillIT.class);
    private static final int RATE = 100;
    private static final int COUNT = 1500;

    @Test
    void aBackupKilledMidStreamResumesWithNothingLost() throws Exception {
        try (BackupFixture f = new BackupFixture("kill");
             DiskKv diskKv = DiskKv.connect(SharedInfra.diskKv().uri(), Duration.ofSeconds(5))) {
            Map<String, String> env = new HashMap<>();
            // Small batches: many commits, so the kill lands between a batch's writes and its commit.
            f.settings(SharedInfra.diskKv().uri(), Map.of("backup.port", Integer.toString(Ports.free()),
                    "backup.batch-max", "20")).forEach((k, v) -> env.put(Settings.keyToEnv(k), v));
            JavaProcess backup = JavaProcess.start(new JavaProcess.Spec("backup dk1", List.of("-Xmx192m"),
                    DiskKvBackupMain.class.getName(), List.of(), env, Path.of("target", "backup-kill-it", "dk1.log"),
                    Duration.ofMinutes(5)));
            long base = System.currentTimeMillis() * 1000;
            AtomicInteger produced = new AtomicInteger();
            CompletableFuture<Void> stream = CompletableFuture.runAsync(() -> {
                long start = System.nanoTime();
                for (int i = 0; i < COUNT; i++) {
                    long due = start + i * 1_000_000_000L / RATE;
                    LockSupport.parkNanos(due - System.nanoTime()); // the stream's pace
                    f.send(f.bodies, Long.toString(base + i),
                            DiskKvBackupIT.json(BackupFixture.body(base + i, System.currentTimeMillis())));
                    produced.incrementAndGet();
                }
            });
            try {
                // Kill once it has backed up a good part, while bodies still stream in.
                await().atMost(AWAIT).until(() -> f.committed(f.bodies) >= COUNT / 4);
                int producedAtKill = produced.get();
                backup.kill();
                assertFalse(backup.alive());
                long committedAtKill = f.committed(f.bodies);
                assertTrue(producedAtKill < COUNT, "the kill came after the stream ended");
                // Bodies keep coming while it is dead: the lag grows.
                await().atMost(AWAIT).until(() -> produced.get() >= producedAtKill + RATE);
                assertEquals(committedAtKill, f.committed(f.bodies), "a dead backup committed");
                log.info("killed the backup with {} of {} bodies produced, {} committed", producedAtKill, COUNT,
                        committedAtKill);

                backup.restart();
                stream.get(AWAIT.toSeconds(), TimeUnit.SECONDS);
                await().atMost(AWAIT).until(() -> f.committed(f.bodies) == COUNT);
                List<Integer> missing = new ArrayList<>();
                List<CompletableFuture<String>> reads = new ArrayList<>();
                for (int i = 0; i < COUNT; i++) {
                    reads.add(diskKv.body(base + i));
                }
                for (int i = 0; i < COUNT; i++) {
                    if (reads.get(i).join() == null) {
                        missing.add(i);
                    }
                }
                assertEquals(List.of(), missing, "bodies lost across the kill");
            } finally {
                stream.cancel(true);
                backup.stop(Duration.ofSeconds(10));
            }
        }
    }
}
