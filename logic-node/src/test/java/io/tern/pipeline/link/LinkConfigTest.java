package io.tern.pipeline.link;

import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinkConfigTest {

    @Test
    void theDevDefaultLinksALocalPlatform() {
        LinkConfig c = LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true"))).brokerLink();
        assertTrue(c.usesDevSecret());
        assertEquals(Duration.ofSeconds(5), c.authTimeout());
    }

    @Test
    void aShortSecretIsRefusedAndAGoodOneNeverDescribed() {
        assertTrue(assertThrows(ConfigException.class,
                () -> LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true", "logic.cluster-secret", "short"))))
                .getMessage()
                .contains("logic.cluster-secret"));
        LogicConfig c = LogicConfig.from(Settings.of(Map.of("logic.dev-mode", "true",
                "logic.cluster-secret", "the-cluster-secret-xyz-42", "logic.link-auth-timeout", "2s")));
        assertFalse(c.brokerLink().usesDevSecret());
        assertEquals(Duration.ofSeconds(2), c.brokerLink().authTimeout());
        assertFalse(Settings.describe(c).contains("the-cluster-secret-xyz-42"), Settings.describe(c));
        assertFalse(c.toString().contains("the-cluster-secret-xyz-42"));
    }
}
