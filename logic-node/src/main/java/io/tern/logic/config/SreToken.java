package io.tern.logic.config;

import io.tern.runtime.config.ConfigException;

/**
 * The bearer token of the logic node's SRE admin API ({@code logic.sre-token}). A type of its own so it never
 * prints (the config is logged at start); runtime.http.BearerGuard checks it.
 */
public record SreToken(String value) {
    /** As the global scheduler's and the rate controller's: one token may serve every admin API. */
    public static final int MIN_LENGTH = 16;

    public SreToken {
        ConfigException.require(value != null && value.length() >= MIN_LENGTH,
                "logic.sre-token must be at least " + MIN_LENGTH + " characters (TERN_LOGIC_SRE_TOKEN)");
    }

    @Override
    public String toString() {
        return "****";
    }
}
