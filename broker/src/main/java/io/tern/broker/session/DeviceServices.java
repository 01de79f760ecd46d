package io.tern.broker.session;

import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.token.ConnectTokenSigner;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * What the device handlers share, built once per broker and handed to every connection's
 * pipeline: nothing here is per connection.
 *
 * @param heartbeatSeconds told to devices in CONNACK
 * @param handshakeTimeout a connection must authenticate within this
 * @param clock            epoch millis; tests may pin it
 * @param handshakes       failed handshakes per source address; a source over its limit is refused
 * @param maxUnacked       most msgIds one connection keeps as written and not yet acked
 * @param admission        the admission rate: a valid CONNECT beyond it is refused SERVER_BUSY with a retry hint
 * @param connectStats     connect counters and latency, for the registry
 * @param regionFailedOver true while this broker's region is failed over: every CONNECT is refused REGION_MOVED
 */
public record DeviceServices(String brokerId, Sessions sessions, SessionLifecycle lifecycle, AckSink acks,
                             TagSink tags, ConnectTokenSigner signer, Disconnects disconnects, ConnectionLimiter limiter,
                             BrokerMetrics metrics, int heartbeatSeconds, Duration handshakeTimeout,
                             LongSupplier clock, FailedHandshakeLimiter handshakes, int maxUnacked,
                             AdmissionLimiter admission, ConnectStatsTracker connectStats,
                             BooleanSupplier regionFailedOver) {
    public DeviceServices {
        Objects.requireNonNull(brokerId, "brokerId");
        Objects.requireNonNull(sessions, "sessions");
        Objects.requireNonNull(lifecycle, "lifecycle");
        Objects.requireNonNull(acks, "acks");
        Objects.requireNonNull(tags, "tags");
        Objects.requireNonNull(signer, "signer");
        Objects.requireNonNull(disconnects, "disconnects");
        Objects.requireNonNull(limiter, "limiter");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(handshakes, "handshakes");
        Objects.requireNonNull(admission, "admission");
        Objects.requireNonNull(connectStats, "connectStats");
        Objects.requireNonNull(regionFailedOver, "regionFailedOver");
        if (maxUnacked < 1) {
            throw new IllegalArgumentException("maxUnacked must be >= 1: " + maxUnacked);
        }
    }
}
