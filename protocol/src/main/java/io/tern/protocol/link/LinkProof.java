package io.tern.protocol.link;

import io.tern.protocol.crypto.HmacSha256;
import io.tern.protocol.frame.Frame;

import javax.crypto.Mac;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The proofs of an internal link's handshake, HMAC-SHA256 keyed with the cluster secret every
 * role shares (see protocol/README.md, "Internal links"):
 * <ul>
 *   <li>peer proof = HMAC(secret, 0x01 ‖ brokerNonce ‖ peerNonce ‖ UTF-8 peerId)</li>
 *   <li>broker proof = HMAC(secret, 0x02 ‖ peerNonce ‖ brokerNonce)</li>
 * </ul>
 * The leading direction byte keeps one side's proof from ever being replayed as the other's;
 * both nonces are fresh per link, so a recorded exchange proves nothing on a new link.
 * Thread-safe.
 */
public final class LinkProof {
    /** Shortest cluster secret accepted, in bytes. */
    public static final int MIN_SECRET_BYTES = 16;
    /**
     * The development cluster secret, the default of every role's {@code cluster-secret} so that a
     * local platform links up with no configuration. Production sets its own.
     */
    public static final String DEV_CLUSTER_SECRET = "tern-dev-cluster-secret";
    private static final byte PEER = 0x01;
    private static final byte BROKER = 0x02;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final HmacSha256 hmac;

    public LinkProof(String clusterSecret) {
        byte[] secret = clusterSecret == null ? null : clusterSecret.getBytes(StandardCharsets.UTF_8);
        if (secret == null || secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("cluster secret must be at least " + MIN_SECRET_BYTES + " bytes");
        }
        this.hmac = new HmacSha256(secret);
    }

    /** {@link Frame#LINK_NONCE_BYTES} fresh random bytes. */
    public static byte[] nonce() {
        byte[] n = new byte[Frame.LINK_NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /** What the peer (logic node) answers to the broker's {@code brokerNonce}. */
    public byte[] peerProof(byte[] brokerNonce, byte[] peerNonce, String peerId) {
        Mac mac = hmac.mac();
        mac.update(PEER);
        mac.update(brokerNonce);
        mac.update(peerNonce);
        return mac.doFinal(peerId.getBytes(StandardCharsets.UTF_8));
    }

    /** What the broker answers to the peer's {@code peerNonce}. */
    public byte[] brokerProof(byte[] peerNonce, byte[] brokerNonce) {
        Mac mac = hmac.mac();
        mac.update(BROKER);
        mac.update(peerNonce);
        return mac.doFinal(brokerNonce);
    }

    /** Constant-time comparison of a received proof with the expected one. */
    public static boolean matches(byte[] expected, byte[] received) {
        return MessageDigest.isEqual(expected, received);
    }

    @Override
    public String toString() {
        return "LinkProof[secret=****]";
    }
}
