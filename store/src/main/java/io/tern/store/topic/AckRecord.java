package io.tern.store.topic;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A record on the {@link Topics#ACKS} topic, in one of two forms, as newline-separated fields.
 * <ul>
 *   <li>A device ack ({@link #isCount()} false), keyed by regId: appId, regId, msgId,
 *       ackedAtMillis, brokerId (5 fields).</li>
 *   <li>A count ({@link #count}), keyed by msgId: devices that acked a broadcast on one broker
 *       since its last count record, as their {@link DeviceHash}es: appId, "" (no regId), msgId,
 *       atMillis, brokerId, then a zero byte and the hashes as 8 bytes each, big-endian (6 fields;
 *       brokers before the zero byte wrote 16 hex digits a hash, which still decode). The
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
    /** Starts a count's hashes as bytes; hex digits, which brokers before it wrote, never start with it. */
    private static final byte BINARY = 0;

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
        if (!isCount()) {
            return device.getBytes(StandardCharsets.UTF_8);
        }
        byte[] text = (device + '\n').getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(text.length + 1 + 8 * deviceHashes.length).put(text).put(BINARY);
        for (long h : deviceHashes) {
            out.putLong(h);
        }
        return out.array();
    }

    /** @throws IllegalArgumentException on a record that is not an ack */
    public static AckRecord decode(byte[] bytes) {
        // The text fields end at the fifth newline: a count's hashes after it are bytes, newlines among them.
        int[] ends = new int[COUNT_FIELDS - 1];
        int found = 0;
        for (int i = 0; i < bytes.length && found < ends.length; i++) {
            if (bytes[i] == '\n') {
                ends[found++] = i;
            }
        }
        if (found < DEVICE_FIELDS - 1) {
            throw new IllegalArgumentException("ack record has " + (found + 1) + " fields, want "
                    + DEVICE_FIELDS + " or " + COUNT_FIELDS);
        }
        String[] f = new String[DEVICE_FIELDS];
        int from = 0;
        for (int k = 0; k < DEVICE_FIELDS; k++) {
            int to = k < found ? ends[k] : bytes.length;
            f[k] = new String(bytes, from, to - from, StandardCharsets.UTF_8);
            from = to + 1;
        }
        try {
            long msgId = Long.parseLong(f[2]);
            long at = Long.parseLong(f[3]);
            if (found == DEVICE_FIELDS - 1) {
                return new AckRecord(f[0], f[1], msgId, at, f[4]);
            }
            return count(f[0], msgId, at, f[4], hashes(bytes, from));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ack record has a bad number: " + e.getMessage());
        }
    }

    /** A count's hashes from {@code from}: 8 bytes each after the binary mark, or the hex digits of older brokers. */
    private static long[] hashes(byte[] bytes, int from) {
        int length = bytes.length - from;
        if (length > 0 && bytes[from] == BINARY) {
            if (length == 1 || (length - 1) % 8 != 0) {
                throw new IllegalArgumentException("count record hashes are not 8 bytes each");
            }
            ByteBuffer in = ByteBuffer.wrap(bytes, from + 1, length - 1);
            long[] hashes = new long[(length - 1) / 8];
            for (int i = 0; i < hashes.length; i++) {
                hashes[i] = in.getLong();
            }
            return hashes;
        }
        if (length == 0 || length % HEX != 0) {
            throw new IllegalArgumentException("count record hashes are not 16 hex digits each");
        }
        String hex = new String(bytes, from, length, StandardCharsets.ISO_8859_1);
        long[] hashes = new long[length / HEX];
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = HexFormat.fromHexDigitsToLong(hex, i * HEX, (i + 1) * HEX);
        }
        return hashes;
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
