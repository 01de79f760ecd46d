package io.tern.protocol.frame;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RetryAfterTest {
    @Test
    void theHintIsASuffixOfTheMessageAndReadsBack() {
        String message = RetryAfter.append("admission limit", 1200);
        assertEquals("admission limit; retry-after-ms=1200", message);
        assertEquals(1200, RetryAfter.parse(message));
    }

    @Test
    void aMessageWithoutAHintHasNone() {
        assertEquals(-1, RetryAfter.parse("broker is at its connection limit"));
        assertEquals(-1, RetryAfter.parse(""));
        assertEquals(-1, RetryAfter.parse(null));
        assertEquals(-1, RetryAfter.parse("x; retry-after-ms="));
        assertEquals(-1, RetryAfter.parse("x; retry-after-ms=-5"));
    }

    @Test
    void aHugeHintIsCappedNotOverflowed() {
        assertEquals(RetryAfter.MAX_MILLIS, RetryAfter.parse("x; retry-after-ms=99999999999999999999"));
        assertThrows(IllegalArgumentException.class, () -> RetryAfter.append("x", -1));
    }
}
