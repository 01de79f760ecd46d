package io.tern.protocol.codec;

/**
 * The fixed 8-byte header: version (u8), type (u8), flags (u16), body length (u32), big-endian.
 */
public final class FrameHeader {
    public static final int SIZE = 8;
    public static final int VERSION = 1;
    public static final int VERSION_OFFSET = 0;
    public static final int TYPE_OFFSET = 1;
    public static final int FLAGS_OFFSET = 2;
    public static final int LENGTH_OFFSET = 4;
    /**
     * Flag bit: the PUSH in this frame (PUSH, PUSH_COMMAND, PUSH_BATCH, BROADCAST) is a broadcast
     * and carries an i64 broadcastSeq after its payload. Set by the encoder iff broadcastSeq &gt; 0.
     */
    public static final int FLAG_BROADCAST = 0x0001;
    /**
     * Flag bit, BROADCAST only: the sender reads counted acks, and the task needs no per-device
     * receipt, so the broker may count this broadcast's acks instead of publishing one per device.
     */
    public static final int FLAG_COUNT_ACKS = 0x0002;
    /**
     * Flag bit, CONNECT and CONNACK only. On CONNECT: the device can send ACKS and read CONNACK's ack
     * fields (no field added; a broker that does not know the bit ignores it). On CONNACK: the
     * broker reads ACKS, and broadcastAckDelayMs u16 and maxAcks u16 follow serverTimeMillis; sent
     * only to a device whose CONNECT had the bit, since older readers reject trailing bytes.
     */
    public static final int FLAG_ACKS = 0x0004;
    /** Default limit on a frame's body; a 4 KiB message plus its ids fits with room to spare. */
    public static final int DEFAULT_MAX_BODY = 8 * 1024;
    /** Upper bound for any configured limit: keeps one bad length from reserving a large buffer. */
    public static final int ABSOLUTE_MAX_BODY = 1024 * 1024;
    /**
     * Limit for internal links (broker internal port, logic node's link): a PUSH_BATCH of 1,000
     * regIds plus a 4 KiB message is well over a device's limit.
     */
    public static final int INTERNAL_MAX_BODY = 256 * 1024;

    private FrameHeader() {
    }
}
