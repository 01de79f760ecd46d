package io.tern.store.task;

import java.util.Map;

/**
 * A task with its state and counters as last read; {@code reason} says why it failed (null
 * unless FAILED, or while a tag resolution is retried after an error).
 */
public record StoredTask(TaskBody body, TaskState state, boolean broadcast, Map<TaskCounter, Long> counters,
                         String reason) {

    public long counter(TaskCounter c) {
        return counters.getOrDefault(c, 0L);
    }
}
