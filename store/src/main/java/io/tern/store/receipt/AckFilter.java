package io.tern.store.receipt;

/**
 * A broadcast's ack filter size, as the task hash's {@code bf} field ("m:k"), and the bits a device sets in it:
 * the same arithmetic as {@code ack-filter.lua} (double hashing over the device hash's two 32-bit halves), so a
 * device counted by either side is known to the other, and a broadcast in flight during an upgrade keeps its
 * filter.
 *
 * @param bits   m, at most 2^32 (a Redis bitmap's limit)
 * @param probes k, bits a device sets (at most 32: 22 at the largest bits per device the config allows)
 */
record AckFilter(long bits, int probes) {
    /** A broadcast marked before filters were sized (no {@code bf}): 1 MiB, 7 probes, as in ack-filter.lua. */
    static final AckFilter UNSIZED = new AckFilter(8_388_608, 7);

    AckFilter {
        if (bits < 1 || bits > 1L << 32 || probes < 1 || probes > 32) {
            throw new IllegalArgumentException("bad ack filter size " + bits + ":" + probes);
        }
    }

    /** The {@code bf} field's value; null (no field) is {@link #UNSIZED}. */
    static AckFilter parse(String bf) {
        if (bf == null) {
            return UNSIZED;
        }
        int colon = bf.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("bad ack filter size " + bf);
        }
        return new AckFilter(Long.parseLong(bf.substring(0, colon)), Integer.parseInt(bf.substring(colon + 1)));
    }

    /** As the scripts compare it with {@code bf}. */
    String size() {
        return bits + ":" + probes;
    }

    /**
     * Writes the device's {@link #probes} bit positions to {@code out} from {@code at}: h1 the high half, h2 the low
     * half made odd (so the probes never collapse onto one bit), probe i at (h1 + i·h2) mod m. All below 2^37: exact
     * in a long and in Lua's doubles alike.
     */
    void positions(long deviceHash, long[] out, int at) {
        long h1 = deviceHash >>> 32;
        long h2 = (deviceHash & 0xFFFF_FFFFL) | 1;
        for (int i = 0; i < probes; i++) {
            out[at + i] = (h1 + i * h2) % bits;
        }
    }
}
