package io.tern.store.topic;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AckRecordTest {

    @Test
    void aRecordInTheOldFiveFieldFormStillDecodesAsADeviceAck() {
        AckRecord ack = AckRecord.decode("app\nreg\n42\n1000\nb1".getBytes(StandardCharsets.UTF_8));
        assertEquals(new AckRecord("app", "reg", 42, 1000, "b1"), ack);
        assertFalse(ack.isCount());
        assertEquals("reg", ack.key());
        assertEquals("app\nreg\n42\n1000\nb1", new String(ack.encode(), StandardCharsets.UTF_8), "device acks keep their form");
    }

    @Test
    void aCountRoundTripsAndIsKeyedByItsMsgId() {
        AckRecord count = AckRecord.count("app", 42, 1000, "b1", new long[]{-1L, 0L, 0x0123456789abcdefL});
        AckRecord back = AckRecord.decode(count.encode());
        assertEquals(count, back);
        assertTrue(back.isCount());
        assertEquals("42", back.key());
        assertEquals(3, back.total());
        assertEquals("app\n\n42\n1000\nb1\n".length() + 1 + 3 * 8, count.encode().length,
                "a zero byte and 8 bytes a device after the text fields");
    }

    @Test
    void hashesWithNewlineBytesInThemStayWhole() {
        long newlines = 0x0a0a0a0a0a0a0a0aL;
        AckRecord count = AckRecord.count("app", 42, 1000, "b1", new long[]{newlines, 0x0a00000000000000L, newlines});
        assertEquals(count, AckRecord.decode(count.encode()));
    }

    @Test
    void aCountInTheHexFormOfEarlierBrokersStillDecodes() {
        AckRecord back = AckRecord.decode("app\n\n42\n1000\nb1\nffffffffffffffff00000000000000000123456789abcdef"
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(AckRecord.count("app", 42, 1000, "b1", new long[]{-1L, 0L, 0x0123456789abcdefL}), back);
    }

    @Test
    void otherShapesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\nb\n1\n2".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\n".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\n0123".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\nzzzzzzzzzzzzzzzz".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\nc\n-1".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\n\0".getBytes(StandardCharsets.UTF_8)),
                "the binary mark and no hash");
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\n\0abcdefg".getBytes(StandardCharsets.UTF_8)),
                "seven bytes are not a hash");
    }
}
