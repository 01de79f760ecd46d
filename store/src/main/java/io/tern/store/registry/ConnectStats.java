package io.tern.store.registry;

/**
 * A broker's connect counters since it started (readers diff two reports for a rate) and the
 * latency of its recent handshakes.
 *
 * @param admitted         CONNECTs answered with CONNACK
 * @param refused          connections refused SERVER_BUSY by the admission rate cap
 * @param failed           handshakes that failed otherwise (bad or expired token, timeout, protocol error)
 * @param p99Millis        p99 of accept-to-CONNACK over the last few seconds; 0 with no connects
 * @param admissionPerSecond the broker's admission cap (connects/s), 0 when uncapped
 */
public record ConnectStats(long admitted, long refused, long failed, long p99Millis, int admissionPerSecond) {
    public static final ConnectStats NONE = new ConnectStats(0, 0, 0, 0, 0);
}
