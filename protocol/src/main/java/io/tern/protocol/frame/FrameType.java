package io.tern.protocol.frame;

/** Frame type codes on the wire. Codes are final once released: never reuse or renumber. */
public enum FrameType {
    CONNECT(0x01),
    CONNACK(0x02),
    PING(0x03),
    PONG(0x04),
    PUSH(0x05),
    ACK(0x06),
    REDIRECT(0x07),
    DISCONNECT(0x08),
    /** Device to broker: add this device to tags. */
    SUBSCRIBE(0x09),
    /** Device to broker: remove this device from tags. */
    UNSUBSCRIBE(0x0A),
    /** Device to broker: several ACKs in one frame, only to a broker whose CONNACK announced it. */
    ACKS(0x0B),
    // 0x0C..0x3F reserved for further device frames.
    /** Logic node to broker, internal port only. */
    PUSH_COMMAND(0x40),
    /** Broker to logic node, internal port only. */
    PUSH_RESULT(0x41),
    /** Logic node to broker, internal port only: one PUSH to many devices. */
    PUSH_BATCH(0x42),
    /** Broker to logic node, internal port only. */
    PUSH_BATCH_RESULT(0x43),
    /** Logic node to broker, internal port only: one PUSH to every local connection of an app. */
    BROADCAST(0x44),
    /** Broker to logic node, internal port only. */
    BROADCAST_RESULT(0x45),
    /** Broker to peer, internal port only: first frame of a link, a random nonce to prove the cluster secret over. */
    LINK_CHALLENGE(0x46),
    /** Peer to broker, internal port only: the peer's id, its own nonce and its proof over the broker's nonce. */
    LINK_AUTH(0x47),
    /** Broker to peer, internal port only: the link is authenticated; the broker's proof over the peer's nonce. */
    LINK_ACCEPT(0x48);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    FrameType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** @return the type for {@code code}, or null when the code is not assigned */
    public static FrameType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
