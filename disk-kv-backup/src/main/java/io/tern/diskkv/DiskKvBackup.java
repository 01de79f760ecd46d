package io.tern.diskkv;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tern.diskkv.config.BackupConfig;
import io.tern.diskkv.lag.BackupLag;
import io.tern.diskkv.lag.GroupLag;
import io.tern.diskkv.write.BodyBackup;
import io.tern.diskkv.write.RouteBackup;
import io.tern.pipeline.kafka.BatchConsumer;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.main.StartedResources;
import io.tern.runtime.metrics.Observability;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.redis.StoreFailures;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The disk-KV backup: keeps the disk KV (Kvrocks) fed from Kafka so that what group pushes and routing need
 * outlives a Redis outage. Two consumers in one group ({@code backup.group}, default {@code tern-disk-kv}): task
 * bodies ({@code tern.bodies}) and route changes ({@code tern.routes}, compacted). Each polled batch is written, and
 * only then committed ({@link BatchConsumer}): a crash reads again what was not committed, and every write is
 * idempotent. While the disk KV is unreachable nothing is committed and nothing dead-lettered: the consumer backs
 * off and reads the batch again. Any number of instances; each needs its own {@code backup.id}.
 */
public final class DiskKvBackup implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DiskKvBackup.class);

    private final BackupConfig config;
    private final HttpServer http;
    private final BatchConsumer bodies;
    private final BatchConsumer routes;
    private final GroupLag groupLag;
    private final BackupLag lag;
    private final MeterRegistry registry;
    private final StartedResources resources;

    private DiskKvBackup(BackupConfig config, HttpServer http, BatchConsumer bodies, BatchConsumer routes,
                         GroupLag groupLag, BackupLag lag, MeterRegistry registry, StartedResources resources) {
        this.config = config;
        this.http = http;
        this.bodies = bodies;
        this.routes = routes;
        this.groupLag = groupLag;
        this.lag = lag;
        this.registry = registry;
        this.resources = resources;
    }

    public static DiskKvBackup start(BackupConfig config) {
        return start(config, System::currentTimeMillis);
    }

    /** @param nowMillis the clock of expiry checks and of the lag timer */
    public static DiskKvBackup start(BackupConfig config, LongSupplier nowMillis) {
        String owner = "backup " + config.id();
        log.info("[{}] starting with {}", owner, Settings.describe(config));
        StartedResources started = new StartedResources(owner);
        try {
            Observability obs = started.add(new Observability("disk-kv-backup", config.id()));
            var registry = obs.registry();
            DiskKv diskKv = started.add(DiskKv.connect(config.diskKvUri(), config.diskKvTimeout()));
            BackupLag lag = new BackupLag(registry, nowMillis);
            BodyBackup bodyBackup = new BodyBackup(diskKv, lag, nowMillis, registry);
            RouteBackup routeBackup = new RouteBackup(diskKv, lag, registry);
            String member = "backup-" + config.id();
            BatchConsumer bodies = started.add(new BatchConsumer(config.kafkaBootstrap(), config.group(),
                    member + "-bodies", config.bodiesTopic(), config.batchMax(), config.batchTimeout(),
                    config.consumer(), bodyBackup::write, DiskKvBackup::diskKvDown, registry, member + "-bodies"))
                    .start();
            BatchConsumer routes = started.add(new BatchConsumer(config.kafkaBootstrap(), config.group(),
                    member + "-routes", config.routesTopic(), config.batchMax(), config.batchTimeout(),
                    config.consumer(), routeBackup::write, DiskKvBackup::diskKvDown, registry, member + "-routes"))
                    .start();
            GroupLag groupLag = started.add(new GroupLag(config.kafkaBootstrap(), config.group(),
                    List.of(config.bodiesTopic(), config.routesTopic()), config.lagRefresh(), registry, member));

            obs.check("disk-kv", diskKv::isOpen);
            obs.check("bodies-consuming", bodies::consuming);
            obs.check("routes-consuming", routes::consuming);
            HttpServer http = started.add(obs.addRoutes(HttpServer.builder("disk-kv-backup", registry))
                    .maxBodyBytes(4096)
                    .limits(config.httpLimits())
                    .start(config.http()));
            log.info("[{}] backing up {} and {} as group {} into {}; admin on http://{}:{}", owner,
                    config.bodiesTopic(), config.routesTopic(), config.group(),
                    Settings.redactUris(config.diskKvUri()), http.address().getHostString(), http.address().getPort());
            return new DiskKvBackup(config, http, bodies, routes, groupLag, lag, registry, started);
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
    }

    /**
     * The disk KV is unreachable (retry the batch later, dead-letter nothing), as opposed to a record that cannot be
     * read (an IllegalArgumentException from the writers, whatever its cause: dead-lettered after its attempts).
     */
    static boolean diskKvDown(Throwable failure) {
        return !(failure instanceof IllegalArgumentException) && StoreFailures.isUnavailable(failure);
    }

    public InetSocketAddress address() {
        return http.address();
    }

    /** True while both consumers hold their group assignment. */
    public boolean assigned() {
        return bodies.assigned() && routes.assigned();
    }

    /** Records of {@code topic} the group has not committed, at the last read (-1: unknown). */
    public long behind(String topic) {
        return groupLag.behind(topic);
    }

    /** The record-timestamp-to-write timer of {@code topic}. */
    public Timer lag(String topic) {
        return lag.timer(topic);
    }

    /** The role's meters (also on {@code /metrics}). */
    public MeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        resources.close();
        log.info("[backup {}] stopped", config.id());
    }
}
