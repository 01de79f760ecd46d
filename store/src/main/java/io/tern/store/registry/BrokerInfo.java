package io.tern.store.registry;

/**
 * What a broker publishes about itself every few seconds: where devices and logic nodes reach
 * it, its region, and its load (for least-loaded-first dispatch).
 */
public record BrokerInfo(String id, String region, String tcpAddress, String wsAddress,
                         String internalAddress, int connections, long startedAtMillis) {
}
