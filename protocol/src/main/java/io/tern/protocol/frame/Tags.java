package io.tern.protocol.frame;

import java.util.List;

/**
 * Rules for tag names in SUBSCRIBE / UNSUBSCRIBE (and for whoever else names tags): 1 to
 * {@value #MAX_LENGTH} characters of {@code [A-Za-z0-9._:-]}, 1 to {@value #MAX_PER_FRAME} tags a frame.
 * ASCII only, so a tag's length in chars is its length in bytes.
 */
public final class Tags {
    public static final int MAX_LENGTH = 64;
    public static final int MAX_PER_FRAME = 64;

    private Tags() {
    }

    public static boolean isValid(String tag) {
        if (tag == null || tag.isEmpty() || tag.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < tag.length(); i++) {
            char c = tag.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == '.' || c == '_' || c == ':' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** @return null when {@code tags} may go in one frame, else why not */
    public static String problem(List<String> tags) {
        if (tags.isEmpty() || tags.size() > MAX_PER_FRAME) {
            return tags.size() + " tags, must be 1.." + MAX_PER_FRAME;
        }
        for (String t : tags) {
            if (!isValid(t)) {
                return "tag '" + abbreviate(t) + "' must match [A-Za-z0-9._:-]{1," + MAX_LENGTH + "}";
            }
        }
        return null;
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() <= MAX_LENGTH + 8 ? s : s.substring(0, MAX_LENGTH + 8) + "...";
    }
}
