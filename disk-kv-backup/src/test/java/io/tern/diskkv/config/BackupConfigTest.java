package io.tern.diskkv.config;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BackupConfigTest {

    @Test
    void defaultsRunOnOneMachine() {
        BackupConfig c = BackupConfig.defaults();
        assertEquals("dk1", c.id());
        assertEquals(8086, c.http().port());
        assertEquals("127.0.0.1:9092", c.kafkaBootstrap());
        assertEquals("redis://127.0.0.1:6391", c.diskKvUri());
        assertEquals(Topics.BODIES, c.bodiesTopic());
        assertEquals(Topics.ROUTES, c.routesTopic());
        assertEquals(Topics.DISK_KV_GROUP, c.group());
        assertEquals(500, c.batchMax());
    }

    @Test
    void environmentOverridesTheFile() {
        Settings s = Settings.load(null, Map.of("TERN_BACKUP_BATCH_MAX", "20", "TERN_BACKUP_DISK_KV_URI",
                "redis://10.0.0.5:6666"), Map.of());
        BackupConfig c = BackupConfig.from(s);
        assertEquals(20, c.batchMax());
        assertEquals("redis://10.0.0.5:6666", c.diskKvUri());
    }

    @Test
    void refusesWhatCannotWork() {
        assertThrows(ConfigException.class, () -> BackupConfig.from(Settings.of(Map.of("backup.batch-max", "0"))));
        assertThrows(ConfigException.class, () -> BackupConfig.from(Settings.of(Map.of("backup.disk-kv-uri", "http://x"))));
        assertThrows(ConfigException.class, () -> BackupConfig.from(Settings.of(Map.of(
                "backup.routes-topic", Topics.BODIES))));
        // A batch that may not outlast one command would count every slow write as a failure.
        assertThrows(ConfigException.class, () -> BackupConfig.from(Settings.of(Map.of(
                "backup.disk-kv-timeout", "5s", "backup.batch-timeout", "5s"))));
        assertEquals(Duration.ofSeconds(2), BackupConfig.defaults().diskKvTimeout());
    }
}
