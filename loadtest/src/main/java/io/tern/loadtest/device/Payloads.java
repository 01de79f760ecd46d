package io.tern.loadtest.device;

/**
 * Reads the load tester's own numeric fields out of a message payload without a JSON parser:
 * single pushes carry {@code {"t": <epoch µs of the intended send>}}, broadcasts
 * {@code {"k": <broadcast number>, "t": <epoch µs the payload was made>}}.
 */
public final class Payloads {
    public static final long ABSENT = Long.MIN_VALUE;

    private Payloads() {
    }

    /** The integer value of top-level-looking field {@code key}, or {@link #ABSENT}. */
    public static long longField(String json, String key) {
        if (json == null) {
            return ABSENT;
        }
        String needle = "\"" + key + "\"";
        int i = json.indexOf(needle);
        if (i < 0) {
            return ABSENT;
        }
        i += needle.length();
        int n = json.length();
        while (i < n && Character.isWhitespace(json.charAt(i))) {
            i++;
        }
        if (i >= n || json.charAt(i) != ':') {
            return ABSENT;
        }
        i++;
        while (i < n && Character.isWhitespace(json.charAt(i))) {
            i++;
        }
        boolean negative = i < n && json.charAt(i) == '-';
        if (negative) {
            i++;
        }
        long v = 0;
        int digits = 0;
        while (i < n && json.charAt(i) >= '0' && json.charAt(i) <= '9' && digits < 19) {
            v = v * 10 + (json.charAt(i) - '0');
            i++;
            digits++;
        }
        if (digits == 0) {
            return ABSENT;
        }
        return negative ? -v : v;
    }
}
