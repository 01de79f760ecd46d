package io.tern.devstack.process;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Child processes of a fixture never outlive it: not after its max lifetime, not when their parent is SIGKILLed. */
class LifelineIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void aChildExitsByItselfOnceItsLifetimeIsOver(@TempDir Path dir) {
        JavaProcess child = JavaProcess.start(new JavaProcess.Spec("sleeper", List.of("-Xmx32m"), Sleeper.class.getName(),
                List.of(), Map.of(), dir.resolve("sleeper.log"), Duration.ofSeconds(2)));
        try {
            Awaitility.await().atMost(WAIT).until(() -> !child.alive());
        } finally {
            child.kill();
        }
    }

    @Test
    void aChildExitsWhenItsParentIsKilled(@TempDir Path dir) throws Exception {
        Path parentLog = dir.resolve("parent.log");
        JavaProcess parent = JavaProcess.start(new JavaProcess.Spec("parent", List.of("-Xmx64m"), Parent.class.getName(),
                List.of(dir.toString()), Map.of(), parentLog, Duration.ofMinutes(5)));
        AtomicLong grandchild = new AtomicLong();
        try {
            Awaitility.await().atMost(WAIT).until(() -> {
                String log = Files.exists(parentLog) ? Files.readString(parentLog) : "";
                int at = log.indexOf(Parent.CHILD_PID);
                if (at < 0) {
                    return false;
                }
                grandchild.set(Long.parseLong(log.substring(at + Parent.CHILD_PID.length()).trim().split("\\s")[0]));
                return true;
            });
            Optional<ProcessHandle> child = ProcessHandle.of(grandchild.get());
            assertTrue(child.isPresent() && child.get().isAlive(), "the grandchild runs while its parent does");

            parent.kill(); // SIGKILL: no shutdown hook of the parent runs

            Awaitility.await().atMost(WAIT).until(() -> !child.get().isAlive());
        } finally {
            ProcessHandle.of(grandchild.get()).ifPresent(ProcessHandle::destroyForcibly);
            parent.kill();
        }
    }

    /** Sleeps until its lifeline ends it. */
    public static final class Sleeper {
        public static void main(String[] args) throws InterruptedException {
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    /** Starts a {@link Sleeper} with a long lifetime, prints its pid, then sleeps. */
    public static final class Parent {
        static final String CHILD_PID = "child pid ";

        public static void main(String[] args) throws InterruptedException {
            JavaProcess child = JavaProcess.start(new JavaProcess.Spec("sleeper", List.of("-Xmx32m"),
                    Sleeper.class.getName(), List.of(), Map.of(), Path.of(args[0], "grandchild.log"), Duration.ofMinutes(5)));
            System.out.println(CHILD_PID + child.pid());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
