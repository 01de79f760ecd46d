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
    void regionalRunsPutOneRegionInEachDeviceProcessAndBrokersInEveryRegion() {
        Options o = Options.parse("failover", "--devices", "20000", "--brokers-per-region", "2", "--push-rate", "50");
        assertEquals(500, o.rate, "--rate is the move rate, 500/s by default");
        assertEquals(50, o.pushRate);
        assertEquals(3, o.clients, "20,000 devices need 2 processes, rounded up to one per region");
        assertEquals(6, o.brokers);
        assertEquals(java.util.List.of("north", "south", "east"), o.regionNames());
        Options death = Options.parse("region-death", "--devices", "40000", "--regions", "2");
        assertEquals(4, death.clients, "3 processes for 40,000 devices, rounded up to a multiple of 2 regions");
        assertEquals(java.util.List.of("north", "south"), death.regionNames());
        assertThrows(IllegalArgumentException.class, () -> Options.parse("failover", "--regions", "1"));
    }

    @Test
    void refusesWhatCannotWork() {
        assertThrows(IllegalArgumentException.class, () -> Options.parse("nope"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("hold", "--devices"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("hold", "--bogus", "1"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("hold", "--devices", "40000", "--clients", "1"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("single", "--rate", "0"));
    }

    @Test
    void broadcastInFlightAndCountWaitFlags() {
        Options d = Options.parse("broadcast");
        assertEquals(0, d.inFlight, "no bound unless asked");
        assertEquals(30, d.inFlightTimeoutSeconds);
        assertEquals(30, d.countWaitSeconds);
        Options o = Options.parse("broadcast", "--in-flight", "8", "--in-flight-timeout-seconds", "5",
                "--count-wait-seconds", "0");
        assertEquals(8, o.inFlight);
        assertEquals(5, o.inFlightTimeoutSeconds);
        assertEquals(0, o.countWaitSeconds);
        assertThrows(IllegalArgumentException.class, () -> Options.parse("broadcast", "--in-flight", "-1"));
        assertThrows(IllegalArgumentException.class, () -> Options.parse("broadcast", "--in-flight-timeout-seconds", "0"));
    }
}
