package io.tern.store.registry;

import java.util.Map;

/**
 * What a broker publishes about itself every second: where devices and logic nodes reach it, its
 * region, its load (for least-loaded-first dispatch), its sessions by the devices' home region (what
 * a region move has left to do) and its connect counters (what the global scheduler watches while
 * moving devices onto it).
 *
 * @param homes    live sessions by the home region in their connect token
 * @param connects cumulative connect counters and the recent connect latency
 * @param deliveries deliveries against the broker's capacity (the rate controller's input)
 */
public record BrokerInfo(String id, String region, String tcpAddress, String wsAddress,
                         String internalAddress, int connections, long startedAtMillis,
                         Map<String, Integer> homes, ConnectStats connects, DeliveryStats deliveries) {
    public BrokerInfo {
        homes = homes == null ? Map.of() : Map.copyOf(homes);
        connects = connects == null ? ConnectStats.NONE : connects;
        deliveries = deliveries == null ? DeliveryStats.NONE : deliveries;
    }

    /** A broker that reports no per-region counts or connect counters (tests, older brokers). */
    public BrokerInfo(String id, String region, String tcpAddress, String wsAddress, String internalAddress,
                      int connections, long startedAtMillis) {
        this(id, region, tcpAddress, wsAddress, internalAddress, connections, startedAtMillis, Map.of(),
                ConnectStats.NONE, DeliveryStats.NONE);
    }

    /** Sessions of devices whose home region is {@code home}. */
    public int sessionsOf(String home) {
        return homes.getOrDefault(home, 0);
    }
}
