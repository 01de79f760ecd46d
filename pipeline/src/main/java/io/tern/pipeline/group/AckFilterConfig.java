package io.tern.pipeline.group;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

/**
 * The per-broadcast ack filter (a Bloom filter bitmap in Redis) that counts each device's ack of a
 * broadcast with a callback at most once, keys {@code logic.ack-filter-*} (a broadcast without one, whose acks the
 * brokers count, counts through an exact set instead: {@code CountedDevices}). Its size is set when the broadcast starts,
 * for {@code expected-devices-factor} × the devices connected to live brokers then (devices that
 * catch up later are the rest), at least {@code min-devices}, at most {@code max-bits}. With b bits
 * a device and k probes, a device is missed (a false positive: under-counted, never counted twice) with
 * probability about (1 − e^(−k·n/m))^k: 0.17% at 24 bits and 2 probes when half the expected count is in (the usual
 * fill with the factor 2), 0.64% when all of it is, more beyond it; averaged over the devices counted up to the
 * usual fill, about 0.06% (measured: 1,214–1,471 of 2,000,000).
 * <p>
 * Why 2 probes and 24 bits, not fewer bits and the k = round(b·ln 2) that makes misses rarest: every probe is a bit
 * Redis sets, and copies to its AOF, for every device's ack; Redis time grows with the bits, not with the filter's
 * size (k = 4 at 12 bits: 6.1–6.6 µs of Redis CPU a new device with {@code appendfsync always}; k = 2 at 24 bits:
 * 3.5–3.7 µs; docs/benchmarks.md), so memory buys back the misses of fewer probes. The probes of each broadcast are
 * stored with its filter, so changing this never disturbs broadcasts in flight.
 *
 * @param bitsPerDevice         {@code logic.ack-filter-bits-per-device}, default 24 (3 bytes a device)
 * @param minDevices            {@code logic.ack-filter-min-devices}, default 10000 (30 KB at 24 bits)
 * @param maxBits               {@code logic.ack-filter-max-bits}, default 134217728 (16 MiB: ~5.6M devices at 24 bits, 2.8M connected at the usual fill)
 * @param expectedDevicesFactor {@code logic.ack-filter-expected-devices-factor}, default 2
 * @param probes                {@code logic.ack-filter-probes}, default 2, at most the bits a device
 */
public record AckFilterConfig(int bitsPerDevice, long minDevices, long maxBits, int expectedDevicesFactor,
                              int probes) {

    public AckFilterConfig {
        ConfigException.require(bitsPerDevice >= 4 && bitsPerDevice <= 32, "logic.ack-filter-bits-per-device must be in [4, 32]");
        ConfigException.require(minDevices >= 1, "logic.ack-filter-min-devices must be >= 1");
        // A Redis string holds at most 512 MiB = 2^32 bits.
        ConfigException.require(maxBits >= minDevices * bitsPerDevice && maxBits <= (1L << 32),
                "logic.ack-filter-max-bits must be in [min-devices × bits-per-device, 2^32]");
        ConfigException.require(expectedDevicesFactor >= 1 && expectedDevicesFactor <= 100,
                "logic.ack-filter-expected-devices-factor must be in [1, 100]");
        ConfigException.require(probes >= 1 && probes <= bitsPerDevice,
                "logic.ack-filter-probes must be in [1, bits-per-device]");
    }

    public static AckFilterConfig defaults() {
        return new AckFilterConfig(24, 10_000, 1L << 27, 2, 2);
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
                s.integer(role + ".ack-filter-expected-devices-factor", d.expectedDevicesFactor()),
                s.integer(role + ".ack-filter-probes", d.probes()));
    }

    /** Filter bits for a broadcast while {@code connected} devices are online. */
    public long bitsFor(long connected) {
        long devices = Math.max(minDevices, connected * expectedDevicesFactor);
        return Math.min(maxBits, devices * bitsPerDevice);
    }
}
