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
        AckRecord count = AckRecord.count("app", 42, 1000, "b1", "b1:7:3", 9_999);
        AckRecord back = AckRecord.decode(count.encode());
        assertEquals(count, back);
        assertTrue(back.isCount());
        assertEquals("42", back.key());
        assertEquals(9_999, back.total());
    }

    @Test
    void otherShapesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\nb\n1\n2".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\nc\n".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\n\n5".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> AckRecord.decode("a\n\n1\n2\nb1\nc\n-1".getBytes(StandardCharsets.UTF_8)));
    }
}
