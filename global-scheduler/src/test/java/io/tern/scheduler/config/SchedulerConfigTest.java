package io.tern.scheduler.config;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulerConfigTest {
    private static final String TOKEN = "a-real-sre-token-0123";

    private static SchedulerConfig of(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return SchedulerConfig.from(Settings.of(m));
    }

    @Test
    void defaultsRunOnOneMachineWithAGeneratedTokenInDevMode() {
        SchedulerConfig c = SchedulerConfig.defaults();
        assertEquals("s1", c.id());
        assertEquals(8082, c.http().port());
        assertEquals("127.0.0.1", c.http().host());
        assertEquals(List.of("local"), c.regions());
        assertEquals(Duration.ofSeconds(3), c.leaseTtl());
        assertEquals(Duration.ofMillis(250), c.tick());
        assertEquals(List.of(0.01, 0.05, 0.25, 1.0), c.stages());
        assertEquals(1, c.minRate());
        assertEquals(100_000, c.maxRate());
        assertEquals(500, c.defaultRate());
        assertEquals(0.01, c.pauseFailureRatio());
        assertEquals(Duration.ofSeconds(1), c.pauseConnectP99());
        assertEquals(Duration.ofSeconds(5), c.resumeAfter());
        assertEquals(java.net.URI.create("http://127.0.0.1:8084"), c.controllerUrl(), "the local rate controller");
        assertTrue(c.sreTokenGenerated());
        assertTrue(c.sreToken().length() >= SchedulerConfig.MIN_TOKEN_LENGTH);
        assertNotEquals(c.sreToken(), SchedulerConfig.defaults().sreToken(), "a fresh token per start");
        assertFalse(c.toString().contains(c.sreToken()), "the token never reaches the start-up log");
    }

    @Test
    void outsideDevModeTheSreTokenIsRequiredAndLongEnough() {
        assertThrows(ConfigException.class, () -> of());
        assertThrows(ConfigException.class, () -> of("scheduler.sre-token", "short"));
        SchedulerConfig c = of("scheduler.sre-token", TOKEN, "scheduler.tls.plain", "true");
        assertEquals(TOKEN, c.sreToken());
        assertFalse(c.sreTokenGenerated());
        assertFalse(of("scheduler.dev-mode", "true", "scheduler.sre-token", TOKEN).sreTokenGenerated(),
                "a configured token wins in dev mode too");
    }

    @Test
    void stagesMustIncreaseAndEndAtTheWhole() {
        assertEquals(List.of(0.1, 1.0), of("scheduler.dev-mode", "true", "scheduler.stages", "0.1, 1.0").stages());
        assertThrows(ConfigException.class, () -> of("scheduler.dev-mode", "true", "scheduler.stages", "0.5,0.25,1.0"));
        assertThrows(ConfigException.class, () -> of("scheduler.dev-mode", "true", "scheduler.stages", "0.1,0.5"));
        assertThrows(ConfigException.class, () -> of("scheduler.dev-mode", "true", "scheduler.stages", "0,1.0"));
        assertThrows(ConfigException.class, () -> of("scheduler.dev-mode", "true", "scheduler.stages", "half,1.0"));
    }

    @Test
    void rateBoundsAndRegionNamesAreChecked() {
        assertThrows(ConfigException.class, () -> of("scheduler.dev-mode", "true", "scheduler.min-rate", "0"));
        assertThrows(ConfigException.class, () -> of("scheduler.dev-mode", "true", "scheduler.max-rate", "100",
                "scheduler.default-rate", "500"));
        assertThrows(ConfigException.class, () -> of("scheduler.dev-mode", "true", "scheduler.regions", "north,so uth"));
        assertEquals(List.of("north", "south"), of("scheduler.dev-mode", "true", "scheduler.regions", "north, south")
                .regions());
    }

    @Test
    void theControllerUrlMustBeHttpWithAHost() {
        assertEquals("https://controller.tern:8084", of("scheduler.dev-mode", "true", "scheduler.controller-url",
                "https://controller.tern:8084").controllerUrl().toString());
        for (String bad : new String[]{"controller:8084", "ftp://controller", "http://", "http://a b"}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> of("scheduler.dev-mode", "true", "scheduler.controller-url", bad), bad);
            assertTrue(e.getMessage().contains("scheduler.controller-url"), e.getMessage());
        }
    }

    @Test
    void theConsolesRecentTasksBoundDefaultsToAThousandAndIsChecked() {
        assertEquals(1000, SchedulerConfig.defaults().recentTasks());
        assertEquals(50, of("scheduler.dev-mode", "true", "scheduler.recent-tasks", "50").recentTasks());
        for (String bad : new String[]{"0", "100001", "many"}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> of("scheduler.dev-mode", "true", "scheduler.recent-tasks", bad), bad);
            assertTrue(e.getMessage().contains("scheduler.recent-tasks"), e.getMessage());
        }
    }
}
