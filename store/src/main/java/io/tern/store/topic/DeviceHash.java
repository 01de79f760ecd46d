package io.tern.store.topic;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A device's 64-bit hash among a broadcast's counted devices: brokers put it in count records instead
 * of the regId (8 bytes a device), and the receipt path hashes a per-device ack the same way, so both
 * meet in one set ({@code CountedDevices}). For a broadcast with a callback its two 32-bit halves give
 * the ack filter's probe positions (double hashing: {@code ack-filter.lua}).
 */
public final class DeviceHash {
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });
    private static final HexFormat HEX = HexFormat.of();

    private DeviceHash() {
    }

    public static long of(String regId) {
        return ByteBuffer.wrap(SHA256.get().digest(regId.getBytes(StandardCharsets.UTF_8))).getLong();
    }

    /** 16 lowercase hex digits, as the Lua scripts read them. */
    public static String hex(long hash) {
        return HEX.toHexDigits(hash);
    }
}
