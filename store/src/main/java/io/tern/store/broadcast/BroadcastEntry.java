package io.tern.store.broadcast;

import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;

import java.nio.charset.StandardCharsets;

/**
 * One logged app broadcast as a device catching up receives it: the task's message under the
 * broadcast's sequence number. {@code kind} is null when the stored kind code is unknown.
 */
public record BroadcastEntry(long seq, long taskId, PayloadKind kind, String payload, long expiresAtMillis) {

    /** The PUSH a device gets: msgId is the taskId, flagged with the broadcast sequence. */
    public Frame.Push toPush() {
        return new Frame.Push(taskId, expiresAtMillis, kind,
                payload == null ? new byte[0] : payload.getBytes(StandardCharsets.UTF_8), seq);
    }
}
