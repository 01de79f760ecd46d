package io.tern.pipeline.group;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

/**
 * The per-broadcast ack filter (a Bloom filter bitmap in Redis) that counts each device's ack of a
 * broadcast at most once, keys {@code logic.ack-filter-*}. Its size is set when the broadcast starts,
 * for {@code expected-devices-factor} × the devices connected to live brokers then (devices that
 * catch up later are the rest), at least {@code min-devices}, at most {@code max-bits}. With b bits
 * a device and k = round(b·ln 2) probes, a device is missed (a false positive: under-counted, never
 * counted twice) with probability about (1 − e^(−k·n/m))^k: 0.8% at 10 bits a device when the
 * expected count is reached, far less below it, more beyond it.
 *
 * @param bitsPerDevice         {@code logic.ack-filter-bits-per-device}, default 10 (1.25 bytes a device)
 * @param minDevices            {@code logic.ack-filter-min-devices}, default 10000 (12.5 KB at 10 bits)
 * @param maxBits               {@code logic.ack-filter-max-bits}, default 134217728 (16 MiB: ~13M devices at 10 bits)
 * @param expectedDevicesFactor {@code logic.ack-filter-expected-devices-factor}, default 2
 */
public record AckFilterConfig(int bitsPerDevice, long minDevices, long maxBits, int expectedDevicesFactor) {

    public AckFilterConfig {
        ConfigException.require(bitsPerDevice >= 4 && bitsPerDevice <= 32, "logic.ack-filter-bits-per-device must be in [4, 32]");
        ConfigException.require(minDevices >= 1, "logic.ack-filter-min-devices must be >= 1");
        // A Redis string holds at most 512 MiB = 2^32 bits.
        ConfigException.require(maxBits >= minDevices * bitsPerDevice && maxBits <= (1L << 32),
                "logic.ack-filter-max-bits must be in [min-devices × bits-per-device, 2^32]");
        ConfigException.require(expectedDevicesFactor >= 1 && expectedDevicesFactor <= 100,
                "logic.ack-filter-expected-devices-factor must be in [1, 100]");
    }

    public static AckFilterConfig defaults() {
        return new AckFilterConfig(10, 10_000, 1L << 27, 2);
    }

    public static AckFilterConfig from(Settings s) {
        return from(s, "logic");
    }

    /** The same keys under {@code <role>.}: every role that runs the pipeline (logic node, bypass consumer). */
    public static AckFilterConfig from(Settings s, String role) {
        AckFilterConfig d = defaults();
        return new AckFilterConfig(
                s.integer(role + ".ack-filter-bits-per-device", d.bitsPerDevice()),
                s.longValue(role + ".ack-filter-min-devices", d.minDevices()),
                s.longValue(role + ".ack-filter-max-bits", d.maxBits()),
                s.integer(role + ".ack-filter-expected-devices-factor", d.expectedDevicesFactor()));
    }

    /** Filter bits for a broadcast while {@code connected} devices are online. */
    public long bitsFor(long connected) {
        long devices = Math.max(minDevices, connected * expectedDevicesFactor);
        return Math.min(maxBits, devices * bitsPerDevice);
    }

    /** Probes a device sets: the count that makes false positives rarest for the bits a device. */
    public int probes() {
        return Math.max(1, (int) Math.round(bitsPerDevice * Math.log(2)));
    }
}
