package io.tern.protocol.frame;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Every frame of the Tern wire protocol. Layouts are documented in protocol/README.md. */
public sealed interface Frame {

    FrameType type();

    /** Device → broker: first frame of every connection. */
    record Connect(String appId, String regId, String token, long lastBroadcastSeq) implements Frame {
        public Connect {
            Objects.requireNonNull(appId, "appId");
            Objects.requireNonNull(regId, "regId");
            Objects.requireNonNull(token, "token");
        }

        @Override
        public FrameType type() {
            return FrameType.CONNECT;
        }
    }

    /** Broker → device: the connection is authenticated; ping at least every heartbeatSeconds. */
    record ConnAck(int heartbeatSeconds, long serverTimeMillis) implements Frame {
        @Override
        public FrameType type() {
            return FrameType.CONNACK;
        }
    }

    record Ping() implements Frame {
        public static final Ping INSTANCE = new Ping();

        @Override
        public FrameType type() {
            return FrameType.PING;
        }
    }

    record Pong() implements Frame {
        public static final Pong INSTANCE = new Pong();

        @Override
        public FrameType type() {
            return FrameType.PONG;
        }
    }

    /** Broker → device: one message. The payload is the message's JSON as UTF-8. */
    record Push(long msgId, long expiresAtMillis, PayloadKind kind, byte[] payload) implements Frame {
        public Push {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(payload, "payload");
        }

        @Override
        public FrameType type() {
            return FrameType.PUSH;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Push p && p.msgId == msgId && p.expiresAtMillis == expiresAtMillis
                    && p.kind == kind && Arrays.equals(p.payload, payload);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(msgId) * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Push[msgId=" + msgId + ", expiresAt=" + expiresAtMillis + ", kind=" + kind
                    + ", payload=" + payload.length + "B]";
        }
    }

    /** Device → broker: the device has the message. */
    record Ack(long msgId) implements Frame {
        @Override
        public FrameType type() {
            return FrameType.ACK;
        }
    }

    /** Broker → device: reconnect elsewhere. Empty addresses means "ask the dispatcher again". */
    record Redirect(ReasonCode reason, List<String> addresses) implements Frame {
        public Redirect {
            Objects.requireNonNull(reason, "reason");
            addresses = List.copyOf(addresses);
        }

        @Override
        public FrameType type() {
            return FrameType.REDIRECT;
        }
    }

    /** Either side: the sender closes the connection after this frame, for the given reason. */
    record Disconnect(ReasonCode reason, String message) implements Frame {
        public Disconnect {
            Objects.requireNonNull(reason, "reason");
            message = message == null ? "" : message;
        }

        @Override
        public FrameType type() {
            return FrameType.DISCONNECT;
        }
    }

    /** Logic node → broker (internal port): deliver {@code push} to device (appId, regId) if connected here. */
    record PushCommand(long correlationId, String appId, String regId, Push push) implements Frame {
        public PushCommand {
            Objects.requireNonNull(appId, "appId");
            Objects.requireNonNull(regId, "regId");
            Objects.requireNonNull(push, "push");
        }

        @Override
        public FrameType type() {
            return FrameType.PUSH_COMMAND;
        }
    }

    /** Broker → logic node (internal port): what became of the PushCommand with this correlationId. */
    record PushResult(long correlationId, PushOutcome outcome) implements Frame {
        public PushResult {
            Objects.requireNonNull(outcome, "outcome");
        }

        @Override
        public FrameType type() {
            return FrameType.PUSH_RESULT;
        }
    }
}
