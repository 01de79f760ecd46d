package io.tern.protocol.crypto;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;

/**
 * HMAC-SHA256 with one key, the primitive behind connect tokens, device secrets, dispatch and app
 * signatures, auth tokens, callback signatures and internal-link proofs. A {@link Mac} is not
 * thread-safe and costly to look up, so each thread keeps its own, keyed once.
 */
public final class HmacSha256 {
    private static final String ALGORITHM = "HmacSHA256";

    private final ThreadLocal<Mac> macs;

    public HmacSha256(byte[] key) {
        SecretKeySpec spec = new SecretKeySpec(key.clone(), ALGORITHM);
        this.macs = ThreadLocal.withInitial(() -> newMac(spec));
    }

    /** The MAC of {@code data}. */
    public byte[] sign(byte[] data) {
        return macs.get().doFinal(data);
    }

    /**
     * This thread's keyed {@link Mac}, for a MAC over several parts ({@code update}, then
     * {@code doFinal}, which leaves it ready for the next one).
     */
    public Mac mac() {
        return macs.get();
    }

    /** A one-off MAC under {@code key}, for keys that change with every call (a device's secret). */
    public static byte[] sign(byte[] key, byte[] data) {
        return newMac(new SecretKeySpec(key, ALGORITHM)).doFinal(data);
    }

    private static Mac newMac(SecretKeySpec key) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
