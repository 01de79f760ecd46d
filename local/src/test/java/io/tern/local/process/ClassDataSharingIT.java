package io.tern.local.process;

import io.tern.devstack.SharedInfra;
import io.tern.devstack.process.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/tern-<role> --train-cds} (bin/role): the training run writes a class data sharing archive that the next
 * start maps (the role's own classes come from it, logged by {@code -Xlog:class+load}); a start whose archive is
 * unusable goes on from the jar without a word; a training that cannot run leaves no archive. The broker stands for
 * every role: they share bin/role.
 */
class ClassDataSharingIT {
    private static final String MAIN = "io.tern.broker.BrokerMain";
    /** Long enough to load the main class and the first libraries; a real training covers a whole start. */
    private static final String TRAIN_SECONDS = "8";

    private final Path repository = Path.of(System.getProperty("basedir", "")).toAbsolutePath().getParent();

    @TempDir
    Path dir;

    @Test
    void aTrainingRunWritesAnArchiveTheNextStartLoadsTheRoleFrom() throws IOException {
        Path archive = dir.resolve("broker.jsa");
        JavaProcess training = broker("train", List.of("--train-cds"), archive, List.of());
        OptionalInt trained = training.awaitExit(Duration.ofSeconds(90));
        assertEquals(OptionalInt.of(0), trained, "training ends by itself with 0: " + training.output());
        assertTrue(Files.size(archive) > 0, "archive written at " + archive);
        assertFalse(Files.exists(dir.resolve("broker.jsa.tmp")), "no partial archive left");

        JavaProcess start = broker("start", List.of(), archive, List.of("-Xlog:class+load=info"));
        try {
            start.awaitLogLine(MAIN + " source: shared objects file (top)", Duration.ofSeconds(60));
        } finally {
            start.stop(Duration.ofSeconds(20));
        }
    }

    @Test
    void aStartWithAnUnusableArchiveRunsFromTheJarWithoutAWord() throws IOException {
        Path archive = dir.resolve("garbage.jsa");
        Files.write(archive, new byte[4096]);
        JavaProcess start = broker("garbage", List.of(), archive, List.of("-Xlog:class+load=info"));
        try {
            start.awaitLogLine(MAIN + " source: file:" + repository.resolve("broker/target/broker-"), Duration.ofSeconds(60));
            assertFalse(start.output().contains("[cds"), "no CDS warning: " + start.output().lines()
                    .filter(l -> l.contains("[cds")).toList());
        } finally {
            start.stop(Duration.ofSeconds(20));
        }
    }

    @Test
    void aStartWithoutAnArchiveRunsFromTheClassesDirectory() {
        JavaProcess start = broker("none", List.of(), dir.resolve("missing.jsa"), List.of("-Xlog:class+load=info"));
        try {
            start.awaitLogLine(MAIN + " source: file:" + repository.resolve("broker/target/classes"), Duration.ofSeconds(60));
        } finally {
            start.stop(Duration.ofSeconds(20));
        }
    }

    @Test
    void aTrainingWhoseRoleCannotStartExitsWithItsStatusAndLeavesNoArchive() {
        Path archive = dir.resolve("bad.jsa");
        JavaProcess training = broker("bad", List.of("--train-cds"), archive, List.of(),
                Map.of("TERN_BROKER_TCP_PORT", "eighty"));
        assertEquals(OptionalInt.of(2), training.awaitExit(Duration.ofSeconds(60)), training.output());
        assertTrue(training.output().contains("no archive written"), training.output());
        assertFalse(Files.exists(archive) || Files.exists(dir.resolve("bad.jsa.tmp")), "no archive");
    }

    @Test
    void aTrainingTimeThatIsNotAWholeNumberOfSecondsIsRefused() {
        JavaProcess training = broker("seconds", List.of("--train-cds"), dir.resolve("s.jsa"), List.of(),
                Map.of("TERN_CDS_TRAIN_SECONDS", "30s"));
        assertEquals(OptionalInt.of(2), training.awaitExit(Duration.ofSeconds(30)), training.output());
        assertTrue(training.output().contains("TERN_CDS_TRAIN_SECONDS must be a whole number of seconds"),
                training.output());
    }

    private JavaProcess broker(String name, List<String> args, Path archive, List<String> jvmArgs) {
        return broker(name, args, archive, jvmArgs, Map.of());
    }

    private JavaProcess broker(String name, List<String> args, Path archive, List<String> jvmArgs,
                               Map<String, String> extraEnv) {
        Map<String, String> env = new HashMap<>();
        env.put("TERN_CDS_ARCHIVE", archive.toString());
        env.put("TERN_CDS_TRAIN_SECONDS", TRAIN_SECONDS);
        env.put("TERN_BROKER_ID", "cds-" + name);
        env.put("TERN_BROKER_DEV_MODE", "true");
        env.put("TERN_BROKER_REDIS_URI", SharedInfra.redis().uri());
        env.put("TERN_BROKER_KAFKA_BOOTSTRAP", SharedInfra.kafka().bootstrapServers());
        env.put("TERN_BROKER_TCP_PORT", "0");
        env.put("TERN_BROKER_WS_PORT", "0");
        env.put("TERN_BROKER_INTERNAL_PORT", "0");
        env.put("TERN_BROKER_ADMIN_PORT", Integer.toString(freePort()));
        env.putAll(extraEnv);
        return JavaProcess.start(new JavaProcess.Spec(name, jvmArgs, null, args, env, dir.resolve(name + ".log"),
                Duration.ofMinutes(3)).withLauncher(repository.resolve("bin/tern-broker")));
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
