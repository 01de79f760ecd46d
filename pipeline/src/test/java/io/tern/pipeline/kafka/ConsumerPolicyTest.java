package io.tern.pipeline.kafka;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConsumerPolicyTest {

    @Test
    void restartBackoffDoublesFromTheInitialDelayAndIsCapped() {
        ConsumerPolicy p = new ConsumerPolicy(Duration.ofSeconds(6), 3, Duration.ZERO, Duration.ofMillis(500),
                Duration.ofSeconds(30), Duration.ofSeconds(30));
        assertEquals(Duration.ofMillis(500), p.backoff(1));
        assertEquals(Duration.ofMillis(1000), p.backoff(2));
        assertEquals(Duration.ofMillis(2000), p.backoff(3));
        assertEquals(Duration.ofSeconds(30), p.backoff(10));
        assertEquals(Duration.ofSeconds(30), p.backoff(1000), "no overflow after many failures");
    }

    @Test
    void keysAreReadWithDefaultsAndOutOfRangeValuesAreRefused() {
        assertEquals(ConsumerPolicy.defaults(), ConsumerPolicy.from(Settings.empty()));
        ConsumerPolicy p = ConsumerPolicy.from(Settings.of(Map.of("logic.consumer.session-timeout", "10s",
                "logic.consumer.max-attempts", "5")));
        assertEquals(Duration.ofSeconds(10), p.sessionTimeout());
        assertEquals(5, p.maxAttempts());
        assertThrows(ConfigException.class, () -> ConsumerPolicy.from(Settings.of(Map.of("logic.consumer.max-attempts", "0"))));
        assertThrows(ConfigException.class, () -> ConsumerPolicy.from(Settings.of(Map.of(
                "logic.consumer.backoff-initial", "10s", "logic.consumer.backoff-max", "1s"))));
    }
}
