package io.tern.bypass.drain;

import io.tern.pipeline.buffer.BufferedPush;
import io.tern.pipeline.group.GroupPushService;
import io.tern.pipeline.single.SinglePushService;

import java.util.concurrent.CompletableFuture;

/** Hands a buffered push to the pipeline, as the direct path would have: both calls are idempotent on the id. */
public final class PipelineHandler implements BufferHandler {
    private final SinglePushService singles;
    private final GroupPushService groups;

    public PipelineHandler(SinglePushService singles, GroupPushService groups) {
        this.singles = singles;
        this.groups = groups;
    }

    @Override
    public CompletableFuture<?> handle(BufferedPush push) {
        return switch (push.kind()) {
            case SINGLE -> singles.deliverQueued(push);
            case TASK -> groups.startQueued(push);
        };
    }
}
