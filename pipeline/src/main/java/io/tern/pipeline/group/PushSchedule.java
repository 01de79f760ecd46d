package io.tern.pipeline.group;

import java.util.concurrent.CompletableFuture;

/**
 * Where tasks whose sendAt is ahead wait: the logic node's Redis-backed scheduler implements it and calls
 * {@link ScheduledPushHandler} back when a task's time comes.
 */
public interface PushSchedule {
    /** Done once the entry is durable; fails with {@code PushError.INVALID_FIELD} (field sendAt) when out of range. */
    CompletableFuture<Void> schedule(long taskId, String appId, long sendAtMillis, String targetJson);

    CompletableFuture<Boolean> cancel(long taskId);
}
