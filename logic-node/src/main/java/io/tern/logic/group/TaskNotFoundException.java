package io.tern.logic.group;

import io.tern.runtime.http.ApiException;

/** The taskId is unknown, expired past retention, or another app's. */
final class TaskNotFoundException {
    private TaskNotFoundException() {
    }

    static ApiException of(long taskId) {
        return new ApiException(404, "unknown_task", "no task " + taskId, "taskId");
    }
}
