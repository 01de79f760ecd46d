package io.tern.dispatcher.config;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DispatcherConfigTest {

    private static DispatcherConfig with(String key, String value) {
        return DispatcherConfig.from(Settings.of(Map.of("dispatcher.dev-mode", "true", key, value)));
    }

    @Test
    void redisOutageAfterDefaultsToTwoSecondsAndIsBounded() {
        assertEquals(Duration.ofSeconds(2), DispatcherConfig.defaults().redisOutageAfter());
        assertEquals(Duration.ofMillis(300), with("dispatcher.redis-outage-after", "300ms").redisOutageAfter());
        ConfigException e = assertThrows(ConfigException.class, () -> with("dispatcher.redis-outage-after", "2m"));
        assertTrue(e.getMessage().contains("dispatcher.redis-outage-after"), e.getMessage());
    }

    @Test
    void storedAppsAreReReadEverySecondByDefaultAndBothBoundsAreChecked() {
        assertEquals(Duration.ofSeconds(1), DispatcherConfig.defaults().appsRefresh());
        assertEquals(10_000, DispatcherConfig.defaults().appsMax());
        assertEquals(Duration.ofMillis(250), with("dispatcher.apps-refresh", "250ms").appsRefresh());
        assertEquals(5, with("dispatcher.apps-max", "5").appsMax());
        for (String[] bad : new String[][]{{"dispatcher.apps-refresh", "10ms"}, {"dispatcher.apps-refresh", "6m"},
                {"dispatcher.apps-max", "0"}, {"dispatcher.apps-max", "1000001"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> with(bad[0], bad[1]));
            assertTrue(e.getMessage().contains(bad[0]), e.getMessage());
        }
    }

    @Test
    void defaultsRunOnOneMachine() {
        DispatcherConfig c = DispatcherConfig.defaults();

        assertEquals("d1", c.id());
        assertEquals("127.0.0.1", c.http().host());
        assertEquals(8081, c.http().port());
        assertEquals("redis://127.0.0.1:6390", c.redisUri());
        assertEquals(Duration.ofSeconds(2), c.redisTimeout());
        assertEquals("tern-dev-connect-token-secret", c.tokenSecret());
        assertTrue(c.usesDevTokenSecret());
        assertEquals(Duration.ofHours(1), c.tokenTtl());
        assertEquals("local", c.defaultRegion());
        assertEquals(Duration.ofMillis(500), c.registryRefresh());
        assertEquals(Duration.ofMillis(500), c.redisReconnectMax());
        assertEquals(3, c.maxHomeBrokers());
        assertTrue(c.devMode());
        assertTrue(c.devices().usesDevDeviceKey());
        assertEquals(Map.of(), c.devices().clientKeys());
        assertEquals(Duration.ofMinutes(5), c.devices().signClockSkew());
    }

    @Test
    void outsideDevModeTheDevelopmentSecretsAreRefused() {
        // Plain HTTP on explicitly: outside dev mode it is off by default (see the test below).
        ConfigException noDevMode = assertThrows(ConfigException.class,
                () -> DispatcherConfig.from(Settings.of(Map.of("dispatcher.tls.plain", "true"))));
        assertTrue(noDevMode.getMessage().contains("dispatcher.token-secret is the development secret"), noDevMode.getMessage());

        ConfigException devKey = assertThrows(ConfigException.class, () -> DispatcherConfig.from(Settings.of(Map.of(
                "dispatcher.token-secret", "a-production-secret-of-enough-length", "dispatcher.tls.plain", "true"))));
        assertTrue(devKey.getMessage().contains("dispatcher.device-key is the development key"), devKey.getMessage());

        DispatcherConfig production = DispatcherConfig.from(Settings.of(Map.of(
                "dispatcher.token-secret", "a-production-secret-of-enough-length",
                "dispatcher.device-key", "a-production-device-key-of-length", "dispatcher.tls.plain", "true")));
        assertFalse(production.devMode());
        assertFalse(production.usesDevTokenSecret());
        assertFalse(production.devices().usesDevDeviceKey());
    }

    @Test
    void outsideDevModePlainHttpIsOffSoAConfigWithoutTlsSaysHowToFixIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> DispatcherConfig.from(Settings.of(Map.of(
                "dispatcher.token-secret", "a-production-secret-of-enough-length",
                "dispatcher.device-key", "a-production-device-key-of-length"))));
        assertTrue(e.getMessage().contains("dispatcher.tls.enabled=true"), e.getMessage());
        assertTrue(e.getMessage().contains("set dispatcher.tls.plain=true"), e.getMessage());

        assertTrue(DispatcherConfig.defaults().tls().plain(), "dev mode keeps plain HTTP on");
    }

    @Test
    void clientKeysAreAppIdEqualsKeyPairs() {
        DispatcherConfig c = with("dispatcher.client-keys", "demo=demo-client-key, com.example.app=k3y-of-the-app");
        assertEquals(Map.of("demo", "demo-client-key", "com.example.app", "k3y-of-the-app"), c.devices().clientKeys());

        assertThrows(ConfigException.class, () -> with("dispatcher.client-keys", "demo"));
        assertThrows(ConfigException.class, () -> with("dispatcher.client-keys", "demo="));
        assertThrows(ConfigException.class, () -> with("dispatcher.client-keys", "demo=short"));
        assertThrows(ConfigException.class, () -> with("dispatcher.client-keys", "a b=long-enough-key"));
        assertThrows(ConfigException.class, () -> with("dispatcher.client-keys", "demo=long-enough-key,demo=another-key-1"));
        assertThrows(ConfigException.class, () -> with("dispatcher.device-key", "fifteen-bytes!!"));
        assertThrows(ConfigException.class, () -> with("dispatcher.sign-clock-skew", "1s"));
    }

    @Test
    void environmentOverridesFileDefaults() {
        Map<String, String> env = Map.of(
                "TERN_DISPATCHER_ID", "d7",
                "TERN_DISPATCHER_PORT", "9081",
                "TERN_DISPATCHER_REDIS_URI", "redis://10.0.0.5:6379/2",
                "TERN_DISPATCHER_TOKEN_SECRET", "a-production-secret-of-enough-length",
                "TERN_DISPATCHER_DEVICE_KEY", "a-production-device-key-of-length",
                "TERN_DISPATCHER_CLIENT_KEYS", "app1=app1-client-key",
                "TERN_DISPATCHER_TOKEN_TTL", "30m",
                "TERN_DISPATCHER_DEFAULT_REGION", "north",
                "TERN_DISPATCHER_REGISTRY_REFRESH", "750ms",
                "TERN_DISPATCHER_MAX_HOME_BROKERS", "5");

        // tls.* keys are nested: they have no environment name, so plain HTTP comes from the overrides.
        DispatcherConfig c = DispatcherConfig.from(Settings.load(null, env, Map.of("dispatcher.tls.plain", "true")));

        assertEquals("d7", c.id());
        assertEquals(9081, c.http().port());
        assertEquals("redis://10.0.0.5:6379/2", c.redisUri());
        assertFalse(c.usesDevTokenSecret());
        assertEquals(Duration.ofMinutes(30), c.tokenTtl());
        assertEquals("north", c.defaultRegion());
        assertEquals(Duration.ofMillis(750), c.registryRefresh());
        assertEquals(5, c.maxHomeBrokers());
        assertEquals(Map.of("app1", "app1-client-key"), c.devices().clientKeys());
    }

    @Test
    void tokenSecretShorterThan16BytesIsRejected() {
        assertThrows(ConfigException.class, () -> with("dispatcher.token-secret", "fifteen-bytes!!"));
    }

    @Test
    void outOfRangeValuesAreRejected() {
        assertThrows(ConfigException.class, () -> with("dispatcher.port", "70000"));
        assertThrows(ConfigException.class, () -> with("dispatcher.port", "eighty"));
        assertThrows(ConfigException.class, () -> with("dispatcher.max-home-brokers", "0"));
        assertThrows(ConfigException.class, () -> with("dispatcher.max-home-brokers", "65"));
        assertThrows(ConfigException.class, () -> with("dispatcher.registry-refresh", "10ms"));
        assertThrows(ConfigException.class, () -> with("dispatcher.registry-refresh", "soon"));
        assertThrows(ConfigException.class, () -> with("dispatcher.token-ttl", "1s"));
        assertThrows(ConfigException.class, () -> with("dispatcher.redis-timeout", "2h"));
    }

    @Test
    void malformedNamesAndUrisAreRejected() {
        assertThrows(ConfigException.class, () -> with("dispatcher.default-region", "north east"));
        assertThrows(ConfigException.class, () -> with("dispatcher.id", "d/1"));
        assertThrows(ConfigException.class, () -> with("dispatcher.redis-uri", "http://127.0.0.1:6379"));
        assertThrows(ConfigException.class, () -> with("dispatcher.redis-uri", "127.0.0.1:6379"));
    }

    @Test
    void describedConfigNeverShowsSecrets() {
        String secret = "s3cr3t,with]odd)chars-and-length";
        DispatcherConfig c = DispatcherConfig.from(Settings.of(Map.of(
                "dispatcher.token-secret", secret,
                "dispatcher.device-key", "d3v1ce-key-nobody-may-read",
                "dispatcher.client-keys", "app1=cl1ent-key-of-app1",
                "dispatcher.redis-uri", "redis://user:hunter2hunter2@10.0.0.5:6379",
                "dispatcher.tls.plain", "true")));

        String described = Settings.describe(c);

        assertFalse(described.contains("s3cr3t"), described);
        assertFalse(described.contains("odd"), described);
        assertFalse(described.contains("hunter2"), described);
        assertFalse(described.contains("d3v1ce"), described);
        assertFalse(described.contains("cl1ent"), described);
        assertTrue(described.contains("10.0.0.5:6379"), described);
        assertTrue(described.contains("maxHomeBrokers=3"), described);
    }
}
