package io.tern.loadtest.stats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    @Test
    void eachSecondRecordsTheReceiptRateConnectionsAndThisProcesssCpuAndRssAndAResetCounterCountsFromZero() {
        long[] readings = {0, 100, 50}; // +100, then reset to 0 and 50 received since
        AtomicInteger calls = new AtomicInteger();
        Sampler s = new Sampler(() -> Map.of("self", List.of(ProcessHandle.current().pid()), "none", List.of()),
                () -> readings[Math.min(calls.getAndIncrement(), readings.length - 1)], () -> 7, "brokers");
        await().atMost(Duration.ofSeconds(20)).until(() -> calls.get() >= 3);
        ObjectNode j = s.stop().toJson();

        JsonNode t = j.get("t");
        JsonNode received = j.get("throughput").get("received");
        assertTrue(received.get(0).isNull(), "no rate from the first reading: " + j);
        // The times are rounded to 0.1 s in the JSON: hence the tolerance.
        double dt1 = t.get(1).asDouble() - t.get(0).asDouble();
        double dt2 = t.get(2).asDouble() - t.get(1).asDouble();
        assertEquals(100 / dt1, received.get(1).asDouble(), 100 / dt1 * 0.15 + 1, j.toString());
        assertEquals(50 / dt2, received.get(2).asDouble(), 50 / dt2 * 0.15 + 1, "a reset counts from zero: " + j);
        assertEquals(7, j.get("connections").get("brokers").get(0).asLong());
        assertTrue(j.get("rssMiB").get("self").get(0).asDouble() > 0, "RSS from /proc: " + j);
        assertTrue(j.get("cpuPct").get("self").get(0).asDouble() >= 0);
        assertEquals(0.0, j.get("cpuPct").get("none").get(0).asDouble(), "a group without processes uses no CPU");
        assertTrue(j.get("rssMiB").get("none") == null, "and has no RSS reading: " + j);
    }
}
