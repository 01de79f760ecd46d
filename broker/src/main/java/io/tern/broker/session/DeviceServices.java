package io.tern.broker.session;

import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.frame.Frame;
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
 * @param broadcastAckDelayMs told in CONNACK to devices that offer ACKS: how long they may hold a broadcast's ack;
 *                         0 = not told, every push acked on its own
 * @param maxAcksPerFrame  most msgIds in one ACKS, told with the delay; a longer ACKS closes the connection
 */
public record DeviceServices(String brokerId, Sessions sessions, SessionLifecycle lifecycle, AckSink acks,
                             TagSink tags, ConnectTokenSigner signer, Disconnects disconnects, ConnectionLimiter limiter,
                             BrokerMetrics metrics, int heartbeatSeconds, Duration handshakeTimeout,
                             LongSupplier clock, FailedHandshakeLimiter handshakes, int maxUnacked,
                             AdmissionLimiter admission, ConnectStatsTracker connectStats,
                             BooleanSupplier regionFailedOver, int broadcastAckDelayMs, int maxAcksPerFrame) {
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
        if (broadcastAckDelayMs < 0 || broadcastAckDelayMs > Frame.ConnAck.MAX_BROADCAST_ACK_DELAY_MS) {
            throw new IllegalArgumentException("broadcastAckDelayMs out of range: " + broadcastAckDelayMs);
        }
        if (maxAcksPerFrame < 1 || maxAcksPerFrame > Frame.Acks.MAX_IDS) {
            throw new IllegalArgumentException("maxAcksPerFrame out of range: " + maxAcksPerFrame);
        }
    }

    /**
     * The CONNACK for a device whose CONNECT offered ACKS or not: the ack fields go only to a device that reads
     * them (older SDKs reject a CONNACK with bytes they do not expect).
     */
    public Frame.ConnAck connAck(boolean cumulativeAcks, long now) {
        return cumulativeAcks && broadcastAckDelayMs > 0
                ? new Frame.ConnAck(heartbeatSeconds, now, broadcastAckDelayMs, maxAcksPerFrame)
                : new Frame.ConnAck(heartbeatSeconds, now);
    }
}
