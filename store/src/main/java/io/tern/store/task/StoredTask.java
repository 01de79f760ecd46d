package io.tern.store.task;

import java.util.Map;

/** A task with its state and counters as last read. */
public record StoredTask(TaskBody body, TaskState state, boolean broadcast, Map<TaskCounter, Long> counters) {

    public long counter(TaskCounter c) {
        return counters.getOrDefault(c, 0L);
    }
}
