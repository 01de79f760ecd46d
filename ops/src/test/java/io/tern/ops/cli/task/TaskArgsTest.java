package io.tern.ops.cli.task;

import io.tern.ops.cli.admin.UsageException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TaskArgsTest {
    private static final Map<String, String> ENV = Map.of("TERN_SRE_TOKEN", "t-0123456789abcdef");

    @Test
    void watchTakesATaskIdAndATimeout() throws Exception {
        TaskArgs a = TaskArgs.parse(List.of("watch", "9007199254740993", "--timeout", "90s"), ENV);
        assertEquals(TaskArgs.Action.WATCH, a.action());
        assertEquals(9007199254740993L, a.taskId(), "a 64-bit id is kept exactly");
        assertEquals(Duration.ofSeconds(90), a.timeout());
        assertEquals(TaskArgs.DEFAULT_TIMEOUT, TaskArgs.parse(List.of("watch", "1"), ENV).timeout());
    }

    @Test
    void everyUsageErrorIsFoundBeforeSending() {
        for (List<String> bad : List.of(
                List.of("show"),
                List.of("show", "abc"),
                List.of("show", "0"),
                List.of("show", "1", "2"),
                List.of("recall", "1", "--timeout", "5m"),
                List.of("watch", "1", "--timeout", "soon"),
                List.of("delete", "1"))) {
            UsageException e = assertThrows(UsageException.class, () -> TaskArgs.parse(bad, ENV), bad.toString());
            assertFalse(e.getMessage().isBlank());
        }
        assertThrows(UsageException.class, () -> TaskArgs.parse(List.of("show", "1"), Map.of()), "no token");
    }
}
