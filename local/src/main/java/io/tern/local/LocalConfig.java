package io.tern.local;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.config.SchedulerConfig;

import java.nio.file.Path;
import java.util.List;

/**
 * The local runner's own settings, keys {@code local.*}; every role's settings pass through to
 * that role's config record unchanged.
 *
 * @param dataDir where Redis's AOF and Kafka's log live; null = a temp dir removed on exit
 * @param demoClientKey the demo app's client key, with which its devices register ({@code local.demo-client-key})
 * @param devTls  the dev CA and certificate every role serves TLS with
 * @param regions {@code local.regions}, default north,south: broker i (from 1) serves {@code regions[(i-1) % size]}
 *                (b1 north, b2 south), the global scheduler knows them all, and the first is the demo device's
 *                home region (it dispatches with {@code region=north}) and the dispatcher's default one
 * @param logicNodes {@code local.logic-nodes}, default 2: logic nodes l1, l2, .. on 8080, 8083, ..
 * @param sreToken {@code local.sre-token} (env {@code TERN_LOCAL_SRE_TOKEN}): the token the global scheduler's admin
 *                 API accepts; null (the default): the scheduler generates one (dev mode), the banner prints it
 * @param diskKvPort {@code local.disk-kv-port}, default 6391: the disk KV's stand-in (a second redis-server, AOF with
 *                   {@code appendfsync always}, in place of Kvrocks), fed by one disk-KV backup
 */
public record LocalConfig(int redisPort, int kafkaPort, Path dataDir, int brokers, String demoAppId,
                          String demoAppKey, String demoAppSecret, String demoRegId, boolean demoDevice,
                          String demoClientKey, DevTls devTls, List<String> regions, int logicNodes, String sreToken,
                          int diskKvPort) {

    /**
     * @param enabled {@code local.dev-tls}: create (first start) or reuse a dev CA and a certificate for
     *                localhost / 127.0.0.1, and have every role serve TLS with it (plain still accepted on
     *                the same ports); default true
     * @param dir     {@code local.dev-tls-dir}: where they live; default {@code <data-dir>/tls}, or
     *                {@code <java.io.tmpdir>/tern-dev-tls} without a data dir, so later starts reuse them
     */
    public record DevTls(boolean enabled, Path dir) {
        static DevTls from(Settings s, Path dataDir) {
            String dir = s.string("local.dev-tls-dir", null);
            Path fallback = dataDir != null ? dataDir.resolve("tls") : Path.of(System.getProperty("java.io.tmpdir"), "tern-dev-tls");
            return new DevTls(s.bool("local.dev-tls", true), dir == null ? fallback : Path.of(dir));
        }
    }

    public LocalConfig {
        ConfigException.require(brokers >= 1 && brokers <= 8, "local.brokers must be in [1, 8]");
        ConfigException.require(demoAppSecret.length() >= 8, "local.demo-app-secret must be >= 8 chars");
        ConfigException.require(regions != null && !regions.isEmpty() && regions.size() <= brokers,
                "local.regions must name 1 to local.brokers regions, got " + regions);
        ConfigException.require(regions.stream().distinct().count() == regions.size(), "local.regions has a region twice: " + regions);
        regions = List.copyOf(regions);
        ConfigException.require(diskKvPort >= 0 && diskKvPort <= 65535 && (diskKvPort == 0 || diskKvPort != redisPort),
                "local.disk-kv-port must be a port other than local.redis-port");
        ConfigException.require(logicNodes >= 1 && logicNodes <= 4, "local.logic-nodes must be in [1, 4]");
        ConfigException.require(sreToken == null || sreToken.length() >= SchedulerConfig.MIN_TOKEN_LENGTH,
                "local.sre-token (TERN_LOCAL_SRE_TOKEN) must be at least " + SchedulerConfig.MIN_TOKEN_LENGTH + " characters");
    }

    public static LocalConfig from(Settings s) {
        String dir = s.string("local.data-dir", null);
        LocalConfig c = new LocalConfig(
                s.integer("local.redis-port", 6390),
                s.integer("local.kafka-port", 9092),
                dir == null ? null : Path.of(dir),
                s.integer("local.brokers", 2),
                s.string("local.demo-app-id", "demo"),
                s.string("local.demo-app-key", "demo-key"),
                s.string("local.demo-app-secret", "demo-secret"),
                s.string("local.demo-reg-id", "demo-device-1"),
                s.bool("local.demo-device", true),
                s.string("local.demo-client-key", "demo-client-key"),
                DevTls.from(s, dir == null ? null : Path.of(dir)),
                s.list("local.regions", List.of("north", "south")),
                s.integer("local.logic-nodes", 2),
                s.string("local.sre-token", null),
                s.integer("local.disk-kv-port", 6391));
        s.warnUnread("local.");
        return c;
    }
}
