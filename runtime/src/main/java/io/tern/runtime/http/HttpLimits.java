package io.tern.runtime.http;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.time.Duration;

/**
 * What one client may hold of an {@link HttpServer}. Read by each role from
 * {@code <prefix>.http-request-deadline}, {@code -keep-alive-timeout}, {@code -max-connections},
 * {@code -max-idle-connections}.
 *
 * @param requestDeadline    a request's headers and body must all arrive within this, counted from
 *                           the connection's accept or the request's first byte and never reset by
 *                           later bytes (a client sending 1 byte/s is cut off); answered 408 and closed.
 *                           Default 10 s
 * @param keepAliveTimeout   a connection with no request in progress is closed after this. Default 60 s
 * @param maxConnections     open connections; one more is answered 503 and closed at once. Default 10000
 * @param maxIdleConnections keep-alive connections with no request in progress; one more idle
 *                           connection closes the one idle the longest. Default 1000
 */
public record HttpLimits(Duration requestDeadline, Duration keepAliveTimeout, int maxConnections,
                         int maxIdleConnections) {
    public static final HttpLimits DEFAULTS = new HttpLimits(Duration.ofSeconds(10), Duration.ofSeconds(60), 10_000, 1_000);

    public HttpLimits {
        ConfigException.require(requestDeadline != null && requestDeadline.toMillis() >= 10
                        && requestDeadline.compareTo(Duration.ofMinutes(10)) <= 0,
                "http-request-deadline must be between 10ms and 10m, got " + requestDeadline);
        ConfigException.require(keepAliveTimeout != null && keepAliveTimeout.toMillis() >= 10
                        && keepAliveTimeout.compareTo(Duration.ofHours(1)) <= 0,
                "http-keep-alive-timeout must be between 10ms and 1h, got " + keepAliveTimeout);
        ConfigException.require(maxConnections >= 1 && maxConnections <= 1_000_000,
                "http-max-connections must be between 1 and 1000000, got " + maxConnections);
        ConfigException.require(maxIdleConnections >= 0 && maxIdleConnections <= maxConnections,
                "http-max-idle-connections must be between 0 and http-max-connections, got " + maxIdleConnections);
    }

    /** Reads {@code prefix + ".http-*"} keys, defaulting to {@link #DEFAULTS}. */
    public static HttpLimits from(Settings s, String prefix) {
        return new HttpLimits(
                s.duration(prefix + ".http-request-deadline", DEFAULTS.requestDeadline),
                s.duration(prefix + ".http-keep-alive-timeout", DEFAULTS.keepAliveTimeout),
                s.integer(prefix + ".http-max-connections", DEFAULTS.maxConnections),
                s.integer(prefix + ".http-max-idle-connections", DEFAULTS.maxIdleConnections));
    }
}
