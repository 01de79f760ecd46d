package io.tern.logic.callback;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CallbackDispatcherTest {

    @Test
    void signatureIsLowercaseHexHmacSha256OfTheBodyBytes() {
        // RFC 4231 test case 2.
        assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                CallbackDispatcher.sign("Jefe", "what do ya want for nothing?".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void bodyCarriesIdsAsStringsTypeRegIdParamAndAckTime() throws Exception {
        byte[] body = CallbackDispatcher.body("app1", List.of(
                new CallbackDispatcher.Item(9007199254740993L, false, "r1", "p", 1000),
                new CallbackDispatcher.Item(42, true, "r2", "", 2000)));
        JsonNode root = io.tern.runtime.http.HttpServer.JSON.readTree(body);
        assertEquals("app1", root.get("appId").asText());
        JsonNode first = root.get("receipts").get(0);
        assertEquals("9007199254740993", first.get("id").asText(), "64-bit ids travel as strings");
        assertTrue(first.get("id").isTextual());
        assertEquals("message", first.get("type").asText());
        assertEquals("r1", first.get("regId").asText());
        assertEquals("p", first.get("param").asText());
        assertEquals(1000, first.get("ackedAt").asLong());
        assertEquals("task", root.get("receipts").get(1).get("type").asText());
    }

    @Test
    void backoffGrowsExponentiallyWithJitterAndIsCapped() {
        CallbackConfig c = new CallbackConfig(100, Duration.ZERO, 10, Duration.ofMillis(100), Duration.ofMillis(1000),
                Duration.ofSeconds(1), 1000, 1, CallbackConfig.Targets.defaults(), CallbackConfig.Outbox.defaults());
        try (CallbackUrlGuard guard = new CallbackUrlGuard(c.targets(), "t");
             CallbackDispatcher d = new CallbackDispatcher(c, Map.of(), null, null, guard,
                     System::currentTimeMillis, new SimpleMeterRegistry(), "t")) {
            for (int i = 0; i < 200; i++) {
                long first = d.backoffMillis(1);
                assertTrue(first >= 50 && first <= 100, "first retry in [initial/2, initial]: " + first);
                long third = d.backoffMillis(3);
                assertTrue(third >= 200 && third <= 400, "third retry in [200, 400]: " + third);
                long late = d.backoffMillis(60);
                assertTrue(late >= 500 && late <= 1000, "capped at backoff-max: " + late);
            }
        }
    }

    @Test
    void configReadsKeysAndRejectsBatchesOver100() {
        CallbackConfig c = CallbackConfig.from(Settings.of(Map.of("logic.callback.batch-max", "50",
                "logic.callback.linger", "20ms", "logic.callback.concurrency", "2")));
        assertEquals(50, c.batchMax());
        assertEquals(Duration.ofMillis(20), c.linger());
        assertEquals(2, c.concurrency());
        assertEquals(CallbackConfig.defaults().queueCapacity(), c.queueCapacity());
        assertThrows(ConfigException.class, () -> CallbackConfig.from(Settings.of(Map.of("logic.callback.batch-max", "101"))));
        assertThrows(ConfigException.class, () -> CallbackConfig.from(Settings.of(Map.of(
                "logic.callback.backoff-initial", "5s", "logic.callback.backoff-max", "1s"))));
    }
}
