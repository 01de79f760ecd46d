package io.tern.loadtest.stats;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuMeterTest {

    private static Map<String, Double> seconds() {
        Map<String, Double> s = new LinkedHashMap<>();
        s.put("clients", 2.0);
        s.put("brokers", 1.0);
        s.put("platform", 0.5);
        s.put("redis", 0.25);
        s.put("other", 3.0);
        return s;
    }

    @Test
    void microsPerDeliveryIsEachGroupsCpuOverTheDeliveriesAndServerIsAllButTheClients() {
        Map<String, Double> us = CpuMeter.microsPerDelivery(seconds(), 500_000);
        assertEquals(4.0, us.get("clients"), 1e-9);
        assertEquals(2.0, us.get("brokers"), 1e-9);
        assertEquals(1.0, us.get("platform"), 1e-9);
        assertEquals(0.5, us.get("redis"), 1e-9);
        assertEquals(3.5, us.get(CpuMeter.SERVER), 1e-9, "brokers + platform + redis");
        assertEquals(List.of("clients", "brokers", "platform", "redis", "server"), List.copyOf(us.keySet()),
                "the machine's other users are not ours");
    }

    @Test
    void serverIsSummedBeforeRoundingAndEachFigureHasTwoDecimals() {
        Map<String, Double> s = new LinkedHashMap<>();
        s.put("brokers", 0.001_004);
        s.put("redis", 0.001_004);
        Map<String, Double> us = CpuMeter.microsPerDelivery(s, 1_000);
        assertEquals(1.0, us.get("brokers"), 1e-9);
        assertEquals(2.01, us.get(CpuMeter.SERVER), 1e-9, "1.004 + 1.004 = 2.008, not 1.00 + 1.00");
    }

    @Test
    void noDeliveriesGiveNoFigures() {
        assertTrue(CpuMeter.microsPerDelivery(seconds(), 0).isEmpty());
        assertEquals("n/a", CpuMeter.describeMicros(Map.of()));
    }

    @Test
    void describeNamesTheServerSumItsPartsAndTheClients() {
        assertEquals("server 3.50 µs (brokers 2.00 · platform 1.00 · redis 0.50) · clients 4.00 µs",
                CpuMeter.describeMicros(CpuMeter.microsPerDelivery(seconds(), 500_000)));
    }
}
