package io.tern.store.message;

import java.util.Locale;

/**
 * A message's delivery state. States only move forward by rank (message-advance.lua holds the same ranks); EXPIRED is decided on read for a
 * message not delivered before its TTL, or set when a full offline queue evicts it.
 */
public enum MessageStatus {
    /** Accepted beyond the permit: waiting in the burst buffer (Kafka), not yet in the device's queue. */
    QUEUED(-1),
    ACCEPTED(0),
    OFFLINE(1),
    SENT(2),
    /** Past its TTL, or evicted from a full offline queue. */
    EXPIRED(3),
    /** Acknowledged by the device; outranks EXPIRED since the device has it. */
    DELIVERED(4);

    private final int rank;

    MessageStatus(int rank) {
        this.rank = rank;
    }

    public int rank() {
        return rank;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static MessageStatus fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
