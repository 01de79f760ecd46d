package io.tern.ratecontrol.config;

import io.tern.ratecontrol.scale.ScaleConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RateControllerConfigTest {
    private static final String TOKEN = "a-real-sre-token-0123";

    private static RateControllerConfig of(String... kv) {
        Map<String, String> m = new HashMap<>();
        m.put("ratecontrol.dev-mode", "true");
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return RateControllerConfig.from(Settings.of(m));
    }

    @Test
    void defaultsRunOnOneMachineWithAGeneratedTokenInDevMode() {
        RateControllerConfig c = RateControllerConfig.defaults();
        assertEquals("rc1", c.id());
        assertEquals(8084, c.http().port());
        assertEquals(Duration.ofMillis(250), c.tick());
        assertEquals(0.8, c.throttleAt());
        assertEquals(0.6, c.releaseBelow());
        assertEquals(Duration.ofSeconds(10), c.minDwell());
        assertEquals(0.1, c.permitStep());
        assertEquals(100, c.minPermit());
        assertEquals(Duration.ofSeconds(3), c.leaseTtl());
        assertEquals(Duration.ofSeconds(10), c.heartbeatHold());
        assertEquals(Map.of(), c.regionCaps());
        assertTrue(c.sreTokenGenerated());
        assertNotEquals(c.sreToken(), RateControllerConfig.defaults().sreToken(), "a fresh token per start");
        assertFalse(c.toString().contains(c.sreToken()), "the token never reaches the start-up log");
    }

    @Test
    void outsideDevModeTheSreTokenIsRequired() {
        assertThrows(ConfigException.class, () -> RateControllerConfig.from(Settings.of(Map.of())));
        RateControllerConfig c = RateControllerConfig.from(Settings.of(Map.of("ratecontrol.sre-token", TOKEN,
                "ratecontrol.tls.plain", "true")));
        assertEquals(TOKEN, c.sreToken());
        assertFalse(c.sreTokenGenerated());
    }

    @Test
    void releaseMustLieBelowTheThrottleMarkSoTheStatesHaveABand() {
        assertThrows(ConfigException.class, () -> of("ratecontrol.release-below", "0.8"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.throttle-at", "1.5"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.throttle-at", "lots"));
        assertEquals(0.5, of("ratecontrol.throttle-at", "0.7", "ratecontrol.release-below", "0.5").releaseBelow());
    }

    @Test
    void permitBoundsAndStepAreChecked() {
        assertThrows(ConfigException.class, () -> of("ratecontrol.min-permit", "-1"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.max-permit", "0"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.min-permit", "20", "ratecontrol.max-permit", "10"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.permit-step", "1"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.heartbeat-hold", "100ms"));
    }

    @Test
    void regionCapsAreReadPerRegionFromTheFileOrTheEnvironment() {
        RateControllerConfig c = of("ratecontrol.region-caps", "eu:5000, us:8000");
        assertEquals(Map.of("eu", 5000L, "us", 8000L), c.regionCaps());
        RateControllerConfig fromEnv = RateControllerConfig.from(Settings.load(null,
                Map.of("TERN_RATECONTROL_REGION_CAPS", "ap:100", "TERN_RATECONTROL_DEV_MODE", "true"), Map.of()));
        assertEquals(Map.of("ap", 100L), fromEnv.regionCaps());
        assertThrows(ConfigException.class, () -> of("ratecontrol.region-caps", "eu:many"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.region-caps", "eu:-5"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.region-caps", "5000"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.region-caps", "eu:1,eu:2"));
    }

    @Test
    void scalingIsOffByDefaultAndItsKeysAreChecked() {
        ScaleConfig scale = RateControllerConfig.defaults().scale();
        assertEquals(ScaleConfig.Mode.OFF, scale.mode());
        assertEquals(10_000, scale.lagPerReplica());
        assertEquals(1, scale.minReplicas());
        assertEquals(Duration.ofMinutes(5), scale.scaleDownAfter());
        assertEquals("default", scale.namespace());
        assertEquals("tern-bypass-consumer", scale.deployment());
        assertEquals(4, scale.localMax());
        assertEquals(ScaleConfig.Mode.KUBERNETES, of("ratecontrol.scale.mode", "kubernetes").scale().mode());
        assertEquals(ScaleConfig.Mode.LOCAL, of("ratecontrol.scale.mode", "Local").scale().mode());
        assertThrows(ConfigException.class, () -> of("ratecontrol.scale.mode", "cloud"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.scale.lag-per-replica", "0"));
        assertThrows(ConfigException.class, () -> of("ratecontrol.scale.local-max", "1000"));
    }
}
