package io.tern.loadtest.device;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PayloadsTest {

    @Test
    void readsTheLoadTestersFields() {
        assertEquals(1700000000123456L, Payloads.longField("{\"t\":1700000000123456}", "t"));
        assertEquals(3, Payloads.longField("{\"k\": 3, \"t\" : 99}", "k"));
        assertEquals(99, Payloads.longField("{\"k\": 3, \"t\" : 99}", "t"));
        assertEquals(-5, Payloads.longField("{\"t\":-5}", "t"));
    }

    @Test
    void absentWhenMissingOrNotANumber() {
        assertEquals(Payloads.ABSENT, Payloads.longField("{\"title\":\"x\"}", "t"));
        assertEquals(Payloads.ABSENT, Payloads.longField("{\"t\":\"x\"}", "t"));
        assertEquals(Payloads.ABSENT, Payloads.longField(null, "t"));
    }
}
