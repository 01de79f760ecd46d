package io.tern.loadtest.stats;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimelineTest {
    @Test
    void aSeriesThatStartsLateOrSkipsASampleIsPaddedWithNullsSoEveryArrayLinesUpWithTheTimes() {
        Timeline t = new Timeline(10);
        t.add(1.0, Map.of("cpuPct", Map.of("brokers", 20.0)));
        t.add(2.0, Map.of("cpuPct", Map.of("brokers", 30.0, "clients", 5.0)));
        t.add(3.0, Map.of("cpuPct", Map.of("clients", 6.0)));

        ObjectNode j = t.toJson();

        assertEquals("[1.0,2.0,3.0]", j.get("t").toString());
        assertEquals("[20.0,30.0,null]", j.get("cpuPct").get("brokers").toString());
        assertEquals("[null,5.0,6.0]", j.get("cpuPct").get("clients").toString());
    }

    @Test
    void samplesBeyondTheLimitAreCountedNotStored() {
        Timeline t = new Timeline(2);
        assertTrue(t.add(1, Map.of("throughput", Map.of("received", 1.0))));
        assertTrue(t.add(2, Map.of("throughput", Map.of("received", 2.0))));
        assertFalse(t.add(3, Map.of("throughput", Map.of("received", 3.0))));

        assertEquals(2, t.size());
        assertEquals(1, t.toJson().get("dropped").asLong());
        assertThrows(IllegalArgumentException.class, () -> new Timeline(0));
    }
}
