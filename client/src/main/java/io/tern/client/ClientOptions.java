package io.tern.client;

import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameHeader;

import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * The settings of one {@link TernClient}, immutable and validated on construction. Built by
 * {@link TernClient.Builder}; each {@code DEFAULT_*} constant names the value used when the
 * builder leaves a setting alone.
 *
 * @param dispatcher       base URI of the dispatcher, {@code http(s)://host:port}
 * @param appId            the app this device belongs to
 * @param transport        TCP or WEBSOCKET; default {@link #DEFAULT_TRANSPORT}
 * @param localAddress     source address for broker connections, or null for the system's choice
 * @param connectTimeout   TCP connect timeout per broker address; default {@link #DEFAULT_CONNECT_TIMEOUT}
 * @param handshakeTimeout from TCP connected to CONNACK (including a WebSocket upgrade);
 *                         default {@link #DEFAULT_HANDSHAKE_TIMEOUT}
 * @param dispatchTimeout  whole dispatcher request; default {@link #DEFAULT_DISPATCH_TIMEOUT}
 * @param backoffInitial   first reconnect/re-dispatch delay ceiling; default {@link #DEFAULT_BACKOFF_INITIAL}
 * @param backoffMax       largest delay ceiling; default {@link #DEFAULT_BACKOFF_MAX}
 * @param dedupCapacity    recently seen msgIds remembered for de-duplication; default {@link #DEFAULT_DEDUP_CAPACITY}
 * @param maxFrameBody     largest frame body accepted from a broker; default {@link FrameHeader#DEFAULT_MAX_BODY}
 * @param tls              how servers are verified; when set, broker connections use TLS (TCP) or wss
 *                         (WebSocket) and dispatches go over HTTPS verified the same way; default null:
 *                         plain TCP, wss only for wss:// addresses (JDK trust store)
 * @param homeRegion       the device's home region, sent with every dispatch; null: the dispatcher's default
 */
public record ClientOptions(
        URI dispatcher,
        String appId,
        Transport transport,
        InetAddress localAddress,
        Duration connectTimeout,
        Duration handshakeTimeout,
        Duration dispatchTimeout,
        Duration backoffInitial,
        Duration backoffMax,
        int dedupCapacity,
        int maxFrameBody,
        ClientTls tls,
        String homeRegion) {

    public static final Transport DEFAULT_TRANSPORT = Transport.TCP;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_DISPATCH_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofMillis(200);
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(30);
    public static final int DEFAULT_DEDUP_CAPACITY = 4096;
    public static final int MAX_DEDUP_CAPACITY = 1 << 20;
    /** The protocol decoder's lower bound on a frame-body limit. */
    public static final int MIN_FRAME_BODY = 64;
    /** Region names as the dispatcher accepts them. */
    public static final java.util.regex.Pattern HOME_REGION = java.util.regex.Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    public ClientOptions {
        if (dispatcher == null) {
            throw new IllegalArgumentException("dispatcher is required");
        }
        String scheme = dispatcher.getScheme() == null ? "" : dispatcher.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || dispatcher.getHost() == null) {
            throw new IllegalArgumentException("dispatcher must be an http(s)://host[:port] URI: " + dispatcher);
        }
        checkId("appId", appId);
        if (transport == null) {
            throw new IllegalArgumentException("transport is required");
        }
        checkPositive("connectTimeout", connectTimeout, Duration.ofMillis(Integer.MAX_VALUE));
        checkPositive("handshakeTimeout", handshakeTimeout, Duration.ofDays(1));
        checkPositive("dispatchTimeout", dispatchTimeout, Duration.ofDays(1));
        checkPositive("backoffInitial", backoffInitial, Duration.ofDays(1));
        checkPositive("backoffMax", backoffMax, Duration.ofDays(1));
        if (backoffMax.compareTo(backoffInitial) < 0) {
            throw new IllegalArgumentException("backoffMax " + backoffMax + " is below backoffInitial " + backoffInitial);
        }
        if (dedupCapacity < 1 || dedupCapacity > MAX_DEDUP_CAPACITY) {
            throw new IllegalArgumentException("dedupCapacity must be in [1, " + MAX_DEDUP_CAPACITY + "]: " + dedupCapacity);
        }
        if (homeRegion != null && !HOME_REGION.matcher(homeRegion).matches()) {
            throw new IllegalArgumentException("homeRegion must match " + HOME_REGION.pattern() + ": " + homeRegion);
        }
        if (maxFrameBody < MIN_FRAME_BODY || maxFrameBody > FrameHeader.ABSOLUTE_MAX_BODY) {
            throw new IllegalArgumentException("maxFrameBody must be in [" + MIN_FRAME_BODY + ", "
                    + FrameHeader.ABSOLUTE_MAX_BODY + "]: " + maxFrameBody);
        }
    }

    private static void checkId(String name, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " is required");
        }
        if (value.getBytes(StandardCharsets.UTF_8).length > FrameCodec.MAX_STRING_BYTES) {
            throw new IllegalArgumentException(name + " is over " + FrameCodec.MAX_STRING_BYTES + " bytes");
        }
    }

    private static void checkPositive(String name, Duration d, Duration max) {
        if (d == null) {
            throw new IllegalArgumentException(name + " is required");
        }
        if (d.toMillis() < 1 || d.compareTo(max) > 0) {
            throw new IllegalArgumentException(name + " must be in [1 ms, " + max + "]: " + d);
        }
    }
}
