package io.tern.protocol.frame;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Every frame of the Tern wire protocol. Layouts are documented in protocol/README.md. */
public sealed interface Frame {

    FrameType type();

    /**
     * Device → broker: first frame of every connection. {@code cumulativeAcks}: the device can send
     * {@link Acks} and read CONNACK's ack fields (the ACKS flag bit; brokers that do not know it ignore it).
     */
    record Connect(String appId, String regId, String token, long lastBroadcastSeq, boolean cumulativeAcks)
            implements Frame {
        public Connect {
            Objects.requireNonNull(appId, "appId");
            Objects.requireNonNull(regId, "regId");
            Objects.requireNonNull(token, "token");
        }

        /** A device that acks every push on its own (what older SDKs send). */
        public Connect(String appId, String regId, String token, long lastBroadcastSeq) {
            this(appId, regId, token, lastBroadcastSeq, false);
        }

        @Override
        public FrameType type() {
            return FrameType.CONNECT;
        }
    }

    /**
     * Broker → device: the connection is authenticated; ping at least every heartbeatSeconds.
     * {@code broadcastAckDelayMs} &gt; 0 (only ever sent to a device whose CONNECT had
     * {@code cumulativeAcks}): the broker reads {@link Acks}, and the device may hold a broadcast's
     * ack up to that long to send it with others, at most {@code maxAcks} ids per ACKS.
     * 0 (and then {@code maxAcks} 0): ack every push with its own ACK.
     */
    record ConnAck(int heartbeatSeconds, long serverTimeMillis, int broadcastAckDelayMs, int maxAcks)
            implements Frame {
        /** Longest broadcast ack delay: the field is a u16 of milliseconds. */
        public static final int MAX_BROADCAST_ACK_DELAY_MS = 0xFFFF;

        public ConnAck {
            if (broadcastAckDelayMs < 0 || broadcastAckDelayMs > MAX_BROADCAST_ACK_DELAY_MS) {
                throw new IllegalArgumentException("broadcastAckDelayMs must be in [0, " + MAX_BROADCAST_ACK_DELAY_MS
                        + "]: " + broadcastAckDelayMs);
            }
            // Without a delay the fields are not on the wire, so maxAcks has to be 0 to read back the same.
            if (broadcastAckDelayMs == 0 ? maxAcks != 0 : maxAcks < 1 || maxAcks > Acks.MAX_IDS) {
                throw new IllegalArgumentException("maxAcks must be " + (broadcastAckDelayMs == 0 ? "0 without a delay"
                        : "in [1, " + Acks.MAX_IDS + "]") + ": " + maxAcks);
            }
        }

        /** Every push acked on its own (what older brokers send). */
        public ConnAck(int heartbeatSeconds, long serverTimeMillis) {
            this(heartbeatSeconds, serverTimeMillis, 0, 0);
        }

        /** Whether the device may send {@link Acks}. */
        public boolean cumulativeAcks() {
            return broadcastAckDelayMs > 0;
        }

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

    /**
     * Broker → device: one message. The payload is the message's JSON as UTF-8.
     * {@code broadcastSeq} is 0 for a message that is not an app broadcast; for a broadcast it is
     * the app's broadcast sequence number (&gt; 0), which the device sends back in its next CONNECT.
     */
    record Push(long msgId, long expiresAtMillis, PayloadKind kind, byte[] payload, long broadcastSeq) implements Frame {
        public Push {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(payload, "payload");
            if (broadcastSeq < 0) {
                throw new IllegalArgumentException("broadcastSeq must be >= 0: " + broadcastSeq);
            }
        }

        /** A message that is not a broadcast. */
        public Push(long msgId, long expiresAtMillis, PayloadKind kind, byte[] payload) {
            this(msgId, expiresAtMillis, kind, payload, 0L);
        }

        @Override
        public FrameType type() {
            return FrameType.PUSH;
        }

        public boolean isBroadcast() {
            return broadcastSeq > 0;
        }

        /** The same message as a broadcast with {@code seq}. */
        public Push withBroadcastSeq(long seq) {
            return new Push(msgId, expiresAtMillis, kind, payload, seq);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Push p && p.msgId == msgId && p.expiresAtMillis == expiresAtMillis
                    && p.kind == kind && p.broadcastSeq == broadcastSeq && Arrays.equals(p.payload, payload);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(msgId) * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Push[msgId=" + msgId + ", expiresAt=" + expiresAtMillis + ", kind=" + kind
                    + ", payload=" + payload.length + "B" + (broadcastSeq > 0 ? ", broadcastSeq=" + broadcastSeq : "") + "]";
        }
    }

    /** Device → broker: the device has the message. */
    record Ack(long msgId) implements Frame {
        @Override
        public FrameType type() {
            return FrameType.ACK;
        }
    }

    /**
     * Device → broker: the device has these messages (1..{@link #MAX_IDS} msgIds), as one ACK each.
     * Sent only to a broker whose CONNACK announced a broadcast ack delay. The array is not copied.
     */
    record Acks(long[] msgIds) implements Frame {
        /** Most msgIds in one ACKS: 2 + 8 × 512 bytes fit a device's default frame-body limit. */
        public static final int MAX_IDS = 512;

        public Acks {
            Objects.requireNonNull(msgIds, "msgIds");
            if (msgIds.length < 1 || msgIds.length > MAX_IDS) {
                throw new IllegalArgumentException("ACKS must list 1.." + MAX_IDS + " msgIds: " + msgIds.length);
            }
        }

        @Override
        public FrameType type() {
            return FrameType.ACKS;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Acks a && Arrays.equals(a.msgIds, msgIds);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(msgIds);
        }

        @Override
        public String toString() {
            return "Acks" + Arrays.toString(msgIds);
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

    /** Device → broker: add this device to {@code tags} of its app (1..64 tags, see {@link Tags}). */
    record Subscribe(List<String> tags) implements Frame {
        public Subscribe {
            tags = List.copyOf(tags);
        }

        @Override
        public FrameType type() {
            return FrameType.SUBSCRIBE;
        }
    }

    /** Device → broker: remove this device from {@code tags} of its app (1..64 tags, see {@link Tags}). */
    record Unsubscribe(List<String> tags) implements Frame {
        public Unsubscribe {
            tags = List.copyOf(tags);
        }

        @Override
        public FrameType type() {
            return FrameType.UNSUBSCRIBE;
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

    /**
     * Logic node → broker (internal port): deliver the same {@code push} to each of {@code regIds}
     * (at most 1,000) of app {@code appId} that is connected here. The broker encodes it once.
     */
    record PushBatch(long correlationId, String appId, Push push, List<String> regIds) implements Frame {
        /** Most regIds in one batch. */
        public static final int MAX_REG_IDS = 1000;

        public PushBatch {
            Objects.requireNonNull(appId, "appId");
            Objects.requireNonNull(push, "push");
            regIds = List.copyOf(regIds);
        }

        @Override
        public FrameType type() {
            return FrameType.PUSH_BATCH;
        }
    }

    /**
     * Broker → logic node (internal port): {@code written} PUSHes are on their devices' sockets;
     * {@code notConnected} lists the regIds of the batch that got nothing here (no connection,
     * connection not writable, or the write failed).
     */
    record PushBatchResult(long correlationId, int written, List<String> notConnected) implements Frame {
        public PushBatchResult {
            notConnected = List.copyOf(notConnected);
        }

        @Override
        public FrameType type() {
            return FrameType.PUSH_BATCH_RESULT;
        }
    }

    /**
     * Logic node → broker (internal port): write {@code push} to every local connection of app
     * {@code appId}. The push must carry its broadcastSeq (&gt; 0). With {@code countAcks} the
     * broker may report the devices' acks as counts instead of one receipt per device (for tasks
     * without a callback URL, sent by logic nodes that read counted acks).
     */
    record Broadcast(long correlationId, String appId, Push push, boolean countAcks) implements Frame {
        public Broadcast {
            Objects.requireNonNull(appId, "appId");
            Objects.requireNonNull(push, "push");
        }

        /** A broadcast whose acks are reported per device. */
        public Broadcast(long correlationId, String appId, Push push) {
            this(correlationId, appId, push, false);
        }

        @Override
        public FrameType type() {
            return FrameType.BROADCAST;
        }
    }

    /** Broker → logic node (internal port): the broadcast was written to {@code written} connections. */
    record BroadcastResult(long correlationId, int written) implements Frame {
        @Override
        public FrameType type() {
            return FrameType.BROADCAST_RESULT;
        }
    }

    /** Length of a link nonce and of a link proof (HMAC-SHA256) in bytes. */
    int LINK_NONCE_BYTES = 32;

    /**
     * Broker → peer (internal port), first frame of every link: {@code nonce} is
     * {@link #LINK_NONCE_BYTES} random bytes the peer proves the cluster secret over.
     */
    record LinkChallenge(byte[] nonce) implements Frame {
        public LinkChallenge {
            nonce = requireLinkBytes("nonce", nonce);
        }

        @Override
        public FrameType type() {
            return FrameType.LINK_CHALLENGE;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LinkChallenge c && Arrays.equals(c.nonce, nonce);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(nonce);
        }

        @Override
        public String toString() {
            return "LinkChallenge[" + nonce.length + "B]";
        }
    }

    /**
     * Peer → broker (internal port), the answer to LINK_CHALLENGE: who the peer is, its own
     * {@code nonce} for the broker to prove the secret over, and its {@code proof} over the broker's nonce.
     */
    record LinkAuth(String peerId, byte[] nonce, byte[] proof) implements Frame {
        public LinkAuth {
            Objects.requireNonNull(peerId, "peerId");
            nonce = requireLinkBytes("nonce", nonce);
            proof = requireLinkBytes("proof", proof);
        }

        @Override
        public FrameType type() {
            return FrameType.LINK_AUTH;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LinkAuth a && a.peerId.equals(peerId) && Arrays.equals(a.nonce, nonce)
                    && Arrays.equals(a.proof, proof);
        }

        @Override
        public int hashCode() {
            return peerId.hashCode() * 31 + Arrays.hashCode(nonce);
        }

        @Override
        public String toString() {
            return "LinkAuth[peerId=" + peerId + "]";
        }
    }

    /** Broker → peer (internal port): the link is authenticated; {@code proof} is over the peer's nonce. */
    record LinkAccept(byte[] proof) implements Frame {
        public LinkAccept {
            proof = requireLinkBytes("proof", proof);
        }

        @Override
        public FrameType type() {
            return FrameType.LINK_ACCEPT;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LinkAccept a && Arrays.equals(a.proof, proof);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(proof);
        }

        @Override
        public String toString() {
            return "LinkAccept[" + proof.length + "B]";
        }
    }

    private static byte[] requireLinkBytes(String field, byte[] b) {
        Objects.requireNonNull(b, field);
        if (b.length != LINK_NONCE_BYTES) {
            throw new IllegalArgumentException(field + " must be " + LINK_NONCE_BYTES + " bytes, got " + b.length);
        }
        return b;
    }
}
