package io.tern.store.topic;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A record on the {@link Topics#ACKS} topic, in one of two forms, as newline-separated text.
 * <ul>
 *   <li>A device ack ({@link #isCount()} false), keyed by regId: appId, regId, msgId,
 *       ackedAtMillis, brokerId (5 fields).</li>
 *   <li>A count ({@link #count}), keyed by msgId: devices that acked a broadcast on one broker
 *       since its last count record, as their {@link DeviceHash}es: appId, "" (no regId), msgId,
 *       atMillis, brokerId, the hashes as 16 hex digits each, concatenated (6 fields). The
 *       broadcast's counted set adds each device once, so a replayed or resent record, or a device
 *       that acks again elsewhere, adds nothing twice.</li>
 * </ul>
 *
 * @param deviceHashes for a count: the devices' hashes; null for a device ack
 */
public record AckRecord(String appId, String regId, long msgId, long ackedAtMillis, String brokerId,
                        long[] deviceHashes) {
    private static final int DEVICE_FIELDS = 5;
    private static final int COUNT_FIELDS = 6;
    private static final int HEX = 16;

    /** One device's ack. */
    public AckRecord(String appId, String regId, long msgId, long ackedAtMillis, String brokerId) {
        this(appId, regId, msgId, ackedAtMillis, brokerId, null);
    }

    /** Devices that acked broadcast {@code msgId} on one broker. */
    public static AckRecord count(String appId, long msgId, long atMillis, String brokerId, long[] deviceHashes) {
        if (deviceHashes == null || deviceHashes.length == 0) {
            throw new IllegalArgumentException("a count needs at least one device");
        }
        return new AckRecord(appId, "", msgId, atMillis, brokerId, deviceHashes.clone());
    }

    public boolean isCount() {
        return deviceHashes != null;
    }

    /** Devices in a count record; 0 for a device ack. */
    public int total() {
        return deviceHashes == null ? 0 : deviceHashes.length;
    }

    /** The Kafka record key: the regId of a device ack, the msgId of a count. */
    public String key() {
        return isCount() ? Long.toString(msgId) : regId;
    }

    public byte[] encode() {
        String device = appId + '\n' + regId + '\n' + msgId + '\n' + ackedAtMillis + '\n' + brokerId;
        return (isCount() ? device + '\n' + hashesHex() : device).getBytes(StandardCharsets.UTF_8);
    }

    /** The hashes as a count record carries them: 16 hex digits each, concatenated. */
    public String hashesHex() {
        StringBuilder b = new StringBuilder(deviceHashes.length * HEX);
        for (long h : deviceHashes) {
            b.append(DeviceHash.hex(h));
        }
        return b.toString();
    }

    /** @throws IllegalArgumentException on a record that is not an ack */
    public static AckRecord decode(byte[] bytes) {
        String[] f = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        if (f.length != DEVICE_FIELDS && f.length != COUNT_FIELDS) {
            throw new IllegalArgumentException("ack record has " + f.length + " fields, want "
                    + DEVICE_FIELDS + " or " + COUNT_FIELDS);
        }
        try {
            long msgId = Long.parseLong(f[2]);
            long at = Long.parseLong(f[3]);
            if (f.length == DEVICE_FIELDS) {
                return new AckRecord(f[0], f[1], msgId, at, f[4]);
            }
            String hex = f[5];
            if (hex.isEmpty() || hex.length() % HEX != 0) {
                throw new IllegalArgumentException("count record hashes are not 16 hex digits each");
            }
            long[] hashes = new long[hex.length() / HEX];
            for (int i = 0; i < hashes.length; i++) {
                // In place: a substring a device was a third of the receipt consumer's decoding.
                hashes[i] = HexFormat.fromHexDigitsToLong(hex, i * HEX, (i + 1) * HEX);
            }
            return count(f[0], msgId, at, f[4], hashes);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ack record has a bad number: " + e.getMessage());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AckRecord r && appId.equals(r.appId) && regId.equals(r.regId) && msgId == r.msgId
                && ackedAtMillis == r.ackedAtMillis && brokerId.equals(r.brokerId)
                && Arrays.equals(deviceHashes, r.deviceHashes);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * appId.hashCode() + regId.hashCode()) + Long.hashCode(msgId) + Arrays.hashCode(deviceHashes);
    }

    @Override
    public String toString() {
        return isCount() ? "AckRecord[count app=" + appId + " msgId=" + msgId + " broker=" + brokerId + " devices="
                + deviceHashes.length + "]"
                : "AckRecord[app=" + appId + " reg=" + regId + " msgId=" + msgId + " broker=" + brokerId + "]";
    }
}
