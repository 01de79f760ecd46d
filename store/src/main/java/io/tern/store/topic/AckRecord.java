package io.tern.store.topic;

import java.nio.charset.StandardCharsets;

/**
 * A device acknowledgement on the {@link Topics#ACKS} topic, keyed by regId. Encoded as
 * newline-separated text: appId, regId, msgId, ackedAtMillis, brokerId.
 */
public record AckRecord(String appId, String regId, long msgId, long ackedAtMillis, String brokerId) {

    public byte[] encode() {
        return (appId + '\n' + regId + '\n' + msgId + '\n' + ackedAtMillis + '\n' + brokerId)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException on a record that is not an ack */
    public static AckRecord decode(byte[] bytes) {
        String[] f = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        if (f.length != 5) {
            throw new IllegalArgumentException("ack record has " + f.length + " fields, want 5");
        }
        try {
            return new AckRecord(f[0], f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), f[4]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ack record has a bad number: " + e.getMessage());
        }
    }
}
