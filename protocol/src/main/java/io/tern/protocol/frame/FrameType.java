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
    // 0x09..0x3F reserved for device frames (SUBSCRIBE, UNSUBSCRIBE, BROADCAST ...).
    /** Logic node to broker, internal port only. */
    PUSH_COMMAND(0x40),
    /** Broker to logic node, internal port only. */
    PUSH_RESULT(0x41);

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
