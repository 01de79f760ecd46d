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
    /** Default limit on a frame's body; a 4 KiB message plus its ids fits with room to spare. */
    public static final int DEFAULT_MAX_BODY = 8 * 1024;
    /** Upper bound for any configured limit: keeps one bad length from reserving a large buffer. */
    public static final int ABSOLUTE_MAX_BODY = 1024 * 1024;

    private FrameHeader() {
    }
}
