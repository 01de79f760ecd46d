package io.tern.ratecontrol.scale;

import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.buffer.BufferBacklog;
import io.tern.store.redis.RedisStore;
import io.tern.store.throttle.ReplicaFloorRepository;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The controller's scaling part as configured: the floors (always, so SREs can set them whatever the mode) and,
 * unless {@code ratecontrol.scale.mode=off}, a {@link Scaler} on the buffer's backlog ({@link BufferBacklog}) and the configured
 * {@link ReplicaTarget}.
 */
public final class Autoscaling implements AutoCloseable {
    private final ReplicaFloorRepository floors;
    private final Scaler scaler;

    private Autoscaling(ReplicaFloorRepository floors, Scaler scaler) {
        this.floors = floors;
        this.scaler = scaler;
    }

    /**
     * @param backlog  the buffer's backlog, read by the controller whatever the mode (its owner closes it)
     * @param redisUri the controller's Redis, handed to local bypass consumers that have none configured
     * @param devMode  handed to local bypass consumers likewise
     */
    public static Autoscaling start(ScaleConfig config, BufferBacklog backlog, RedisStore redis, String redisUri,
                                    boolean devMode, BooleanSupplier leading, LongSupplier clock, Duration readTimeout,
                                    MeterRegistry registry, String id) {
        ReplicaFloorRepository floors = new ReplicaFloorRepository(redis, config.maxFloors());
        if (config.mode() == ScaleConfig.Mode.OFF) {
            return new Autoscaling(floors, null);
        }
        ReplicaTarget target = config.mode() == ScaleConfig.Mode.KUBERNETES
                ? KubernetesReplicas.connect(config.namespace(), config.deployment())
                : localProcesses(config, redisUri, devMode, id);
        Scaler scaler = new Scaler(new ScaleDecision(config.minReplicas(), config.lagPerReplica(),
                config.scaleDownAfter(), clock), target, () -> lag(backlog), () -> partitions(backlog), floors, leading,
                clock, config.interval(), readTimeout, registry, "ratecontrol " + id).start();
        return new Autoscaling(floors, scaler);
    }

    /** No decision on a backlog not read recently: replicas stay as they are until Kafka answers again. */
    private static long lag(BufferBacklog backlog) {
        if (!backlog.fresh()) {
            throw new IllegalStateException("the buffer backlog has not been read recently (Kafka unreachable?)");
        }
        return backlog.total();
    }

    private static int partitions(BufferBacklog backlog) {
        int n = backlog.snapshot().partitions();
        if (n < 1) {
            throw new IllegalStateException("tern.buffer has no partitions yet (topic not created?)");
        }
        return n;
    }

    private static LocalProcesses localProcesses(ScaleConfig config, String redisUri, boolean devMode, String id) {
        Map<String, String> env = new HashMap<>();
        // The consumer's own TERN_BYPASS_* settings, when this process has them, win over these.
        env.put("TERN_BYPASS_PORT", "0");
        env.put("TERN_BYPASS_KAFKA_BOOTSTRAP", config.kafkaBootstrap());
        env.put("TERN_BYPASS_REDIS_URI", redisUri);
        env.put("TERN_BYPASS_DEV_MODE", Boolean.toString(devMode));
        env.putAll(System.getenv());
        env.keySet().removeIf(k -> !k.startsWith("TERN_BYPASS_"));
        try {
            Path logs = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "tern-bypass-" + id));
            return new LocalProcesses(config.localMainClass(), env, id + "-bypass", config.localMax(),
                    config.localStopWait(), logs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the local bypass consumers' log directory", e);
        }
    }

    public ReplicaFloorRepository floors() {
        return floors;
    }

    /** The scaler's last status, or null when scaling is off. */
    public Scaler.Status status() {
        return scaler == null ? null : scaler.status();
    }

    /** Stops scaling (local processes are stopped; a Deployment keeps its replicas). */
    @Override
    public void close() {
        if (scaler != null) {
            scaler.close();
        }
    }
}
