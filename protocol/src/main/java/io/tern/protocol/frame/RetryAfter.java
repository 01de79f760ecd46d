package io.tern.protocol.frame;

/**
 * The retry hint a broker puts in the message of a DISCONNECT SERVER_BUSY when its admission rate
 * is spent: {@code "<text>; retry-after-ms=<n>"}. DISCONNECT has only a reason and a message, so
 * the hint is a machine-readable suffix of the message; a device that finds it waits that long
 * before it asks the dispatcher again. A message without it is no hint.
 */
public final class RetryAfter {
    /** The key before the number, e.g. {@code "admission limit; retry-after-ms=1200"}. */
    public static final String KEY = "retry-after-ms=";
    /** Longer hints are read as this: a broker cannot send a device away for longer. */
    public static final long MAX_MILLIS = 600_000;

    private RetryAfter() {
    }

    /** {@code text} with the hint appended. */
    public static String append(String text, long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("retry hint must be >= 0 ms: " + millis);
        }
        return text + "; " + KEY + millis;
    }

    /** @return the hint in milliseconds (at most {@link #MAX_MILLIS}), or -1 when the message carries none */
    public static long parse(String message) {
        if (message == null) {
            return -1;
        }
        int at = message.lastIndexOf(KEY);
        if (at < 0) {
            return -1;
        }
        int from = at + KEY.length();
        int to = from;
        long value = 0;
        while (to < message.length() && to - from < 10) {
            char c = message.charAt(to);
            if (c < '0' || c > '9') {
                break;
            }
            value = value * 10 + (c - '0');
            to++;
        }
        return to == from ? -1 : Math.min(value, MAX_MILLIS);
    }
}
