package io.tern.store.topic;

import java.nio.charset.StandardCharsets;

/**
 * A record on the {@link Topics#ACKS} topic, in one of two forms, as newline-separated text.
 * <ul>
 *   <li>A device ack ({@link #isCount()} false), keyed by regId: appId, regId, msgId,
 *       ackedAtMillis, brokerId (5 fields; the only form before counts existed).</li>
 *   <li>A count ({@link #count}), keyed by msgId: how many devices acked a broadcast on one
 *       broker, appId, "" (no regId), msgId, atMillis, brokerId, counterId, total (7 fields).
 *       {@code total} is cumulative per counterId, so applying the highest total seen makes a
 *       replayed or reordered record harmless.</li>
 * </ul>
 *
 * @param counterId for a count: the broker's counter (brokerId, its incarnation and entry); null for a device ack
 * @param total     for a count: acks that counter has counted so far; 0 for a device ack
 */
public record AckRecord(String appId, String regId, long msgId, long ackedAtMillis, String brokerId,
                        String counterId, long total) {
    private static final int DEVICE_FIELDS = 5;
    private static final int COUNT_FIELDS = 7;

    public AckRecord {
        if (counterId != null && (counterId.isEmpty() || counterId.indexOf('\n') >= 0 || total < 0)) {
            throw new IllegalArgumentException("a count needs a counterId and a total >= 0");
        }
    }

    /** One device's ack. */
    public AckRecord(String appId, String regId, long msgId, long ackedAtMillis, String brokerId) {
        this(appId, regId, msgId, ackedAtMillis, brokerId, null, 0);
    }

    /** A broker's running count of a broadcast's acks. */
    public static AckRecord count(String appId, long msgId, long atMillis, String brokerId, String counterId, long total) {
        if (counterId == null) {
            throw new IllegalArgumentException("a count needs a counterId");
        }
        return new AckRecord(appId, "", msgId, atMillis, brokerId, counterId, total);
    }

    public boolean isCount() {
        return counterId != null;
    }

    /** The Kafka record key: the regId of a device ack, the msgId of a count. */
    public String key() {
        return isCount() ? Long.toString(msgId) : regId;
    }

    public byte[] encode() {
        String device = appId + '\n' + regId + '\n' + msgId + '\n' + ackedAtMillis + '\n' + brokerId;
        return (isCount() ? device + '\n' + counterId + '\n' + total : device).getBytes(StandardCharsets.UTF_8);
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
            return count(f[0], msgId, at, f[4], f[5], Long.parseLong(f[6]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ack record has a bad number: " + e.getMessage());
        }
    }
}
