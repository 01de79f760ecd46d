package io.tern.protocol.frame;

/**
 * Why a connection was refused, closed or redirected. Sent in DISCONNECT and REDIRECT.
 * Numbers are part of the wire contract: they never change and are never reused.
 */
public enum ReasonCode {
    OK(0),
    /** Header version is not one this peer speaks. */
    UNSUPPORTED_VERSION(1),
    /** Body does not match its frame type's layout (truncated, trailing bytes, bad string). */
    MALFORMED_FRAME(2),
    /** Declared body length is over the peer's maximum frame size. */
    FRAME_TOO_LARGE(3),
    UNKNOWN_FRAME_TYPE(4),
    /** A valid frame at the wrong time, e.g. PUSH before CONNECT or a second CONNECT. */
    PROTOCOL_VIOLATION(5),
    /** No CONNECT within the broker's handshake timeout. */
    HANDSHAKE_TIMEOUT(6),
    /** Token signature, format or claims (appId/regId) do not match. */
    TOKEN_INVALID(7),
    TOKEN_EXPIRED(8),
    /** A newer connection of the same device took over. */
    SESSION_REPLACED(9),
    /** No frame from the device within the idle timeout. */
    IDLE_TIMEOUT(10),
    SERVER_SHUTTING_DOWN(11),
    /** The device's region is being moved; re-dispatch. */
    REGION_MOVED(12),
    /** The broker is over its connection or memory limit. */
    SERVER_BUSY(13),
    INTERNAL_ERROR(14),
    /** An internal link did not prove the cluster secret: no, late or wrong LINK_AUTH, or another frame first. */
    AUTH_FAILED(15);

    private static final ReasonCode[] BY_CODE;

    static {
        int max = 0;
        for (ReasonCode r : values()) {
            max = Math.max(max, r.code);
        }
        BY_CODE = new ReasonCode[max + 1];
        for (ReasonCode r : values()) {
            BY_CODE[r.code] = r;
        }
    }

    private final int code;

    ReasonCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Unknown codes from a newer peer map to {@link #INTERNAL_ERROR} rather than failing the decode. */
    public static ReasonCode fromCode(int code) {
        ReasonCode r = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        return r == null ? INTERNAL_ERROR : r;
    }
}
