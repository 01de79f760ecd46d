package io.tern.pipeline.group;

import java.util.concurrent.CompletableFuture;

/**
 * Sends a scheduled task when its time has come (provided by the logic node: list / tag / all push of
 * the stored task). Called on one node only per firing. A failed future, or one not done within
 * {@code logic.schedule.fire-timeout}, makes the scheduler try again later (bounded); so a handler should
 * be safe to run again for the same task (e.g. check the task's state first).
 */
@FunctionalInterface
public interface ScheduledPushHandler {
    CompletableFuture<Void> fire(long taskId, String appId, String targetJson);

    /** The scheduler gave up on the task after its attempts (the task should say so, not stay scheduled). */
    default CompletableFuture<Void> givenUp(long taskId, String reason) {
        return CompletableFuture.completedFuture(null);
    }
}
