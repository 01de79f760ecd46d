package io.tern.runtime.config;

/** A configuration value is missing, malformed or out of range; the process refuses to start. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    /** Throws unless {@code ok}; for range checks in config records' compact constructors. */
    public static void require(boolean ok, String message) {
        if (!ok) {
            throw new ConfigException(message);
        }
    }
}
