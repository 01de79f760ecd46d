package io.tern.loadtest.scenario;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OptionsTest {

    @Test
    void defaultsPerScenario() {
        Options hold = Options.parse("hold");
        assertEquals(19_000, hold.devices);
        assertEquals(30, hold.seconds);
        assertEquals(2, hold.clients, "19,000 devices need two processes of at most 18,000");
        Options single = Options.parse("single");
        assertEquals(10_000, single.rate);
        assertEquals(1, single.clients);
    }

    @Test
    void flagsAndSettings() {
        Options o = Options.parse("hold", "--devices", "100000", "--brokers", "6", "--set",
                "broker.liveness-interval=1s", "--profile");
        assertEquals(100_000, o.devices);
        assertEquals(6, o.brokers);
        assertEquals(6, o.clients);
        assertEquals("1s", o.set.get("broker.liveness-interval"));
        assertTrue(o.profile);
    }

    @Test
    void chaosNamesTheProcessItKills() {
        Options o = Options.parse("chaos", "--kill", "redis");
        assertEquals("redis", o.kill);
        assertEquals(10_000, o.devices);
        assertEquals(2, o.brokers);
        assertThrows(IllegalArgumentException.class, () -> Options.parse("chaos"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("chaos", "--kill", "everything"));
    }

    @Test
    void refusesWhatCannotWork() {
        assertThrows(IllegalArgumentException.class, () -> Options.parse("nope"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("hold", "--devices"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("hold", "--bogus", "1"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("hold", "--devices", "40000", "--clients", "1"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("single", "--rate", "0"));
    }
}
