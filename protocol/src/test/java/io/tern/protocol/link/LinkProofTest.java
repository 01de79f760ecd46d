package io.tern.protocol.link;

import io.tern.protocol.frame.Frame;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinkProofTest {
    private static final String SECRET = "a-cluster-secret-of-32-bytes!!!!";
    private final LinkProof proof = new LinkProof(SECRET);

    @Test
    void bothSidesWithTheSameSecretAgree() {
        byte[] nb = LinkProof.nonce();
        byte[] np = LinkProof.nonce();
        LinkProof other = new LinkProof(SECRET);
        assertTrue(LinkProof.matches(proof.peerProof(nb, np, "logic-1"), other.peerProof(nb, np, "logic-1")));
        assertTrue(LinkProof.matches(proof.brokerProof(np, nb), other.brokerProof(np, nb)));
        assertEquals(Frame.LINK_NONCE_BYTES, proof.peerProof(nb, np, "x").length);
    }

    @Test
    void aDifferentSecretNonceOrPeerIdGivesADifferentProof() {
        byte[] nb = LinkProof.nonce();
        byte[] np = LinkProof.nonce();
        byte[] expected = proof.peerProof(nb, np, "logic-1");
        assertFalse(LinkProof.matches(expected, new LinkProof("another-secret-of-enough-bytes").peerProof(nb, np, "logic-1")));
        assertFalse(LinkProof.matches(expected, proof.peerProof(LinkProof.nonce(), np, "logic-1")));
        assertFalse(LinkProof.matches(expected, proof.peerProof(nb, LinkProof.nonce(), "logic-1")));
        assertFalse(LinkProof.matches(expected, proof.peerProof(nb, np, "logic-2")));
    }

    @Test
    void aBrokerProofIsNeverAValidPeerProof() {
        byte[] n1 = LinkProof.nonce();
        byte[] n2 = LinkProof.nonce();
        // Reflection: the same two nonces in the same order, each direction.
        assertFalse(LinkProof.matches(proof.peerProof(n1, n2, ""), proof.brokerProof(n1, n2)));
        assertFalse(LinkProof.matches(proof.peerProof(n2, n1, ""), proof.brokerProof(n1, n2)));
    }

    @Test
    void noncesAreFresh() {
        byte[] a = LinkProof.nonce();
        byte[] b = LinkProof.nonce();
        assertEquals(Frame.LINK_NONCE_BYTES, a.length);
        assertFalse(java.util.Arrays.equals(a, b));
    }

    @Test
    void aShortSecretIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LinkProof("too-short"));
        assertThrows(IllegalArgumentException.class, () -> new LinkProof(null));
    }

    @Test
    void toStringHidesTheSecret() {
        assertFalse(proof.toString().contains(SECRET));
        assertArrayEquals(proof.brokerProof(new byte[32], new byte[32]), proof.brokerProof(new byte[32], new byte[32]));
    }
}
