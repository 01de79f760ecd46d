package io.tern.loadtest.device;

import java.util.List;

/**
 * What one device process simulates; the runner passes it as JSON in the first argument.
 *
 * @param proc         process number (1-based), part of every regId
 * @param dispatcher   {@code http://host:port} of the dispatcher
 * @param appId        app of every device
 * @param regPrefix    regIds are {@code regPrefix + i}, i from 0
 * @param count        devices in this process (each holds one socket: keep it under ~19,000)
 * @param addresses    local source addresses, used round robin (each gives ~28,000 ephemeral ports)
 * @param threads      event loop threads shared by all devices
 * @param maxPending   devices started but not yet connected, at most (paces the connection storm)
 * @param connectRate  devices started per second at most; 0 = only {@code maxPending} paces
 * @param dedup        SDK msgId de-duplication capacity per device
 * @param statsEveryMs how often a {@code stats} line is written
 * @param deviceKey    the dispatcher's device key (dev mode only): each device's secret is derived from it, as
 *                     the platform derives the secrets it issues, so thousands of devices need no registration
 * @param trustedCa    PEM CA file: devices dispatch over HTTPS and connect over TLS verifying with it; null = plain
 * @param region       home region every device names when it dispatches (SDK {@code homeRegion}); null = the dispatcher's default
 * @param pubsubRedis  {@code host:port} of a Redis: the process's receivers are pub/sub subscribers there (the
 *                     baseline), not Tern devices, and {@code dispatcher}, {@code appId}, {@code deviceKey} are unused;
 *                     null = Tern devices
 */
public record DeviceConfig(int proc, String dispatcher, String appId, String regPrefix, int count,
                           List<String> addresses, int threads, int maxPending, int connectRate, int dedup,
                           int statsEveryMs, String deviceKey, String trustedCa, String region, String pubsubRedis) {
    public DeviceConfig {
        if (count < 0 || count > 19_500) {
            throw new IllegalArgumentException("count must be in [0, 19500] (20,000 files per process), got " + count);
        }
        if (addresses == null || addresses.isEmpty()) {
            throw new IllegalArgumentException("addresses must not be empty");
        }
        addresses = List.copyOf(addresses);
        if (pubsubRedis == null && (deviceKey == null || deviceKey.isEmpty())) {
            throw new IllegalArgumentException("deviceKey is required");
        }
        if (threads < 1 || maxPending < 1 || dedup < 1 || statsEveryMs < 50 || connectRate < 0) {
            throw new IllegalArgumentException("threads, maxPending, dedup >= 1, statsEveryMs >= 50, connectRate >= 0");
        }
    }

    public String regId(int i) {
        return regPrefix + i;
    }
}
