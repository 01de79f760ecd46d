package io.tern.logic.config;

import io.tern.runtime.config.ConfigException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The bearer token of the logic node's SRE admin API ({@code logic.sre-token}). A type of its own so it never
 * prints (the config is logged at start) and is compared in constant time.
 */
public record SreToken(String value) {
    /** As the global scheduler's and the rate controller's: one token may serve every admin API. */
    public static final int MIN_LENGTH = 16;

    public SreToken {
        ConfigException.require(value != null && value.length() >= MIN_LENGTH,
                "logic.sre-token must be at least " + MIN_LENGTH + " characters (TERN_LOGIC_SRE_TOKEN)");
    }

    /** @param header the request's {@code Authorization} header, {@code Bearer <token>} */
    public boolean authorizes(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(header.substring(7).trim().getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "****";
    }
}
