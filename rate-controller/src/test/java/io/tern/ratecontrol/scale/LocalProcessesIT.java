package io.tern.ratecontrol.scale;

import io.tern.devstack.SharedInfra;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
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
 * Dev-mode scaling with real child JVMs: the real bypass consumer joining its group and leaving it on SIGTERM, and
 * a stand-in main for what needs a child that behaves on purpose (bounds, a child ignoring SIGTERM, a dead child).
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

    private static int groupMembers(Admin admin) throws Exception {
        return admin.describeConsumerGroups(List.of(Topics.BYPASS_GROUP)).all().get(30, TimeUnit.SECONDS)
                .get(Topics.BYPASS_GROUP).members().size();
    }

    @Test
    void theRealBypassConsumerJoinsItsGroupAndLeavesItOnSigterm() throws Exception {
        SharedInfra.kafka().createTopics(Topics.BUFFER);
        Map<String, String> env = Map.of(
                "TERN_BYPASS_DEV_MODE", "true",
                "TERN_BYPASS_PORT", "0",
                "TERN_BYPASS_REDIS_URI", SharedInfra.redis().uri(),
                "TERN_BYPASS_KAFKA_BOOTSTRAP", SharedInfra.kafka().bootstrapServers());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                SharedInfra.kafka().bootstrapServers()));
             LocalProcesses local = new LocalProcesses(ScaleConfig.DEFAULT_MAIN, env, "it-real", 2,
                     Duration.ofSeconds(60), dir)) {
            assertEquals(1, local.setReplicas(1));
            long pid = local.pids().get(0);
            await().atMost(Duration.ofSeconds(90)).until(() -> groupMembers(admin) == 1);

            assertEquals(0, local.setReplicas(0));
            assertFalse(alive(pid));
            String output = Files.readString(dir.resolve("it-real-1.log"));
            assertTrue(output.contains("[bypass it-real-1] stopped"), "an orderly stop after SIGTERM:\n" + output);
            await().atMost(Duration.ofSeconds(30)).until(() -> groupMembers(admin) == 0);
        }
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
