package io.tern.diskkv.config;

import io.tern.pipeline.kafka.ConsumerPolicy;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpLimits;
import io.tern.store.topic.Topics;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The disk-KV backup's configuration, keys {@code backup.*} (environment {@code TERN_BACKUP_*}); every default runs
 * on one machine next to {@code ./ternctl local}.
 *
 * @param id             instance id: logs, Kafka client id and static group member names ({@code backup-<id>-bodies},
 *                       {@code backup-<id>-routes}); default {@value #DEFAULT_ID}. Unique per instance.
 * @param http           admin port with {@code /metrics} and {@code /health} ({@code backup.host}, {@code backup.port});
 *                       default 127.0.0.1:{@value #DEFAULT_PORT}; 0 picks a free one
 * @param kafkaBootstrap default 127.0.0.1:9092
 * @param diskKvUri      the disk KV (Kvrocks; in dev a redis-server with AOF always); default
 *                       {@code redis://127.0.0.1:6391}
 * @param diskKvTimeout  per-command timeout of the disk KV; default 2s
 * @param bodiesTopic    default {@value Topics#BODIES}
 * @param routesTopic    default {@value Topics#ROUTES}
 * @param group          consumer group; default {@value Topics#DISK_KV_GROUP}
 * @param batchMax       records per poll, written together before one commit; default 500
 * @param batchTimeout   longest wait for one batch's writes before the attempt counts as failed; default 10s
 * @param lagRefresh     how often the records behind (end offsets minus the group's commits) are read; default 1s
 * @param consumer       restarts, attempts before dead-lettering, backoff ({@code backup.consumer.*}, as
 *                       {@link ConsumerPolicy}); a disk KV that is down is never dead-lettered: the batch is read
 *                       again after the backoff (doubling from {@code backoff-initial} to {@code backoff-max})
 * @param httpLimits     limits of the admin port ({@code backup.http-*})
 */
public record BackupConfig(String id, HttpEndpoint http, String kafkaBootstrap, String diskKvUri,
                           Duration diskKvTimeout, String bodiesTopic, String routesTopic, String group, int batchMax,
                           Duration batchTimeout, Duration lagRefresh, ConsumerPolicy consumer,
                           HttpLimits httpLimits) {
    public static final String DEFAULT_ID = "dk1";
    public static final int DEFAULT_PORT = 8086;
    public static final String DEFAULT_DISK_KV_URI = "redis://127.0.0.1:6391";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public BackupConfig {
        ConfigException.require(id != null && NAME.matcher(id).matches(), "backup.id must match " + NAME + ", got '" + id + "'");
        ConfigException.require(http != null, "backup.host/port must be set");
        ConfigException.require(kafkaBootstrap != null && !kafkaBootstrap.isBlank(), "backup.kafka-bootstrap must be set");
        ConfigException.require(diskKvUri != null && (diskKvUri.startsWith("redis://") || diskKvUri.startsWith("rediss://")),
                "backup.disk-kv-uri must be a redis:// or rediss:// URI");
        ConfigException.require(diskKvTimeout.toMillis() >= 10 && diskKvTimeout.toSeconds() <= 60,
                "backup.disk-kv-timeout must be in [10ms, 60s]");
        for (String[] t : new String[][] {{"backup.bodies-topic", bodiesTopic}, {"backup.routes-topic", routesTopic},
                {"backup.group", group}}) {
            ConfigException.require(t[1] != null && NAME.matcher(t[1]).matches(), t[0] + " must match " + NAME);
        }
        ConfigException.require(!bodiesTopic.equals(routesTopic), "backup.bodies-topic and backup.routes-topic must differ");
        ConfigException.require(batchMax >= 1 && batchMax <= 10_000, "backup.batch-max must be in [1, 10000]");
        ConfigException.require(batchTimeout.compareTo(diskKvTimeout) > 0 && batchTimeout.toMinutes() <= 5,
                "backup.batch-timeout must be longer than backup.disk-kv-timeout and at most 5m");
        ConfigException.require(lagRefresh.toMillis() >= 100 && lagRefresh.toMinutes() <= 5,
                "backup.lag-refresh must be in [100ms, 5m]");
        ConfigException.require(consumer != null && httpLimits != null, "backup consumer and http settings are required");
    }

    public static BackupConfig defaults() {
        return from(Settings.empty());
    }

    public static BackupConfig from(Settings s) {
        BackupConfig c = new BackupConfig(
                s.string("backup.id", DEFAULT_ID),
                new HttpEndpoint(s.string("backup.host", "127.0.0.1"), s.integer("backup.port", DEFAULT_PORT)),
                s.string("backup.kafka-bootstrap", "127.0.0.1:9092"),
                s.string("backup.disk-kv-uri", DEFAULT_DISK_KV_URI),
                s.duration("backup.disk-kv-timeout", Duration.ofSeconds(2)),
                s.string("backup.bodies-topic", Topics.BODIES),
                s.string("backup.routes-topic", Topics.ROUTES),
                s.string("backup.group", Topics.DISK_KV_GROUP),
                s.integer("backup.batch-max", 500),
                s.duration("backup.batch-timeout", Duration.ofSeconds(10)),
                s.duration("backup.lag-refresh", Duration.ofSeconds(1)),
                ConsumerPolicy.from(s, "backup"),
                HttpLimits.from(s, "backup"));
        s.warnUnread("backup.");
        return c;
    }
}
