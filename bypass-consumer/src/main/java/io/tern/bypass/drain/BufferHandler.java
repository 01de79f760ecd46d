package io.tern.bypass.drain;

import io.tern.pipeline.buffer.BufferedPush;

import java.util.concurrent.CompletableFuture;

/**
 * Delivers one buffered push through the pipeline. Called on the drain's consumer thread: must not block, only
 * start the work. Must be idempotent on the push's msgId (taskId): a record is handled again after a crash or a
 * rebalance. The future completes once the push is recorded downstream; only then is its offset committed past.
 */
@FunctionalInterface
public interface BufferHandler {
    CompletableFuture<?> handle(BufferedPush push);
}
