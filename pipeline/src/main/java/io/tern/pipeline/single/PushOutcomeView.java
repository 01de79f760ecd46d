package io.tern.pipeline.single;

import io.tern.store.message.MessageStatus;

/** What the API answers for an accepted single push. */
public record PushOutcomeView(long msgId, MessageStatus status) {
}
