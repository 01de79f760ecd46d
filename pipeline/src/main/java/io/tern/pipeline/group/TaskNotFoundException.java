package io.tern.pipeline.group;

import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;

/** The taskId is unknown, expired past retention, or another app's. */
final class TaskNotFoundException {
    private TaskNotFoundException() {
    }

    static PushException of(long taskId) {
        return new PushException(PushError.UNKNOWN_TASK, "no task " + taskId, "taskId");
    }
}
