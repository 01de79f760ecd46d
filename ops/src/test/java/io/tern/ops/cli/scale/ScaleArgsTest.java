package io.tern.ops.cli.scale;

import io.tern.ops.cli.admin.UsageException;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScaleArgsTest {
    private static final Map<String, String> ENV = Map.of("TERN_SRE_TOKEN", "t-0123456789abcdef");

    @Test
    void scheduleTakesAnInstantReplicasAndALength() throws Exception {
        ScaleArgs a = ScaleArgs.parse(List.of("schedule", "--at", "2026-12-24T18:00:00Z", "--replicas", "8", "--for", "30m",
                "--reason", "evening news"), ENV);
        assertEquals(ScaleArgs.Action.SCHEDULE, a.action());
        assertEquals(Instant.parse("2026-12-24T18:00:00Z"), a.at());
        assertEquals(8, a.replicas());
        assertEquals(Duration.ofMinutes(30), a.length());
        assertEquals("evening news", a.reason());
        assertEquals(URI.create("http://127.0.0.1:8084"), a.controller());
    }

    @Test
    void theControllerComesFromTheFlagThenTheEnvironment() throws Exception {
        assertEquals(URI.create("http://c:1"), ScaleArgs.parse(List.of("status"),
                Map.of("TERN_SRE_TOKEN", "t", "TERN_CONTROLLER_URL", "http://c:1/")).controller());
        assertEquals(URI.create("http://d:2"), ScaleArgs.parse(List.of("status", "--controller", "http://d:2"),
                Map.of("TERN_SRE_TOKEN", "t", "TERN_CONTROLLER_URL", "http://c:1")).controller());
    }

    @Test
    void everyUsageErrorIsFoundBeforeSending() {
        for (List<String> bad : List.of(
                List.of("schedule", "--replicas", "8", "--for", "30m"),
                List.of("schedule", "--at", "tomorrow", "--replicas", "8", "--for", "30m"),
                List.of("schedule", "--at", "2026-12-24T18:00:00Z", "--replicas", "0", "--for", "30m"),
                List.of("schedule", "--at", "2026-12-24T18:00:00Z", "--replicas", "8", "--for", "-5m"),
                List.of("schedule", "--at", "2026-12-24T18:00:00Z", "--replicas", "8"),
                List.of("status", "--replicas", "3"),
                List.of("status", "extra"),
                List.of("resize"))) {
            UsageException e = assertThrows(UsageException.class, () -> ScaleArgs.parse(bad, ENV), bad.toString());
            assertTrue(!e.getMessage().isBlank());
        }
        assertThrows(UsageException.class, () -> ScaleArgs.parse(List.of("status"), Map.of()), "no token");
    }
}
