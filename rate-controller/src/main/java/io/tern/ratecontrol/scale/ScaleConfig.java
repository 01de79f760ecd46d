package io.tern.ratecontrol.scale;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import io.tern.store.throttle.ReplicaFloor;
import io.tern.store.throttle.ReplicaFloorRepository;

import java.time.Duration;
import java.util.Locale;

/**
 * Autoscaling of the bypass consumers, keys {@code ratecontrol.scale.*}.
 *
 * @param mode            {@code off} (default: nothing is scaled), {@code kubernetes} (the Deployment's replicas
 *                        through the API server the fabric8 client finds: in-cluster service account or kubeconfig)
 *                        or {@code local} (dev: bypass-consumer processes on this machine)
 * @param interval        how often the leader reads lag and floors and decides; default 5s
 * @param lagPerReplica   buffered records one consumer is expected to drain; default 10000
 * @param minReplicas     replicas kept with no backlog; default 1
 * @param scaleDownAfter  a lower target must be wanted this long before replicas go down; default 5m
 * @param kafkaBootstrap  the Kafka holding {@code tern.buffer}, whose lag the controller reads in every mode (the
 *                        status and the console show it; the scaler decides on it); default 127.0.0.1:9092
 * @param namespace       the bypass consumers' namespace; default {@code default}
 * @param deployment      the bypass consumers' Deployment; default {@value #DEFAULT_DEPLOYMENT}
 * @param localMax        most processes {@code local} mode runs, whatever the target; default 4
 * @param localMainClass  what {@code local} mode runs, with this JVM's classpath; default {@value #DEFAULT_MAIN}
 * @param localStopWait   a process not gone this long after SIGTERM is killed; default 10s
 * @param maxFloors       floors stored at most (SRE and scheduled pushes); default 1000
 * @param maxFloorFor     longest window of one floor an SRE may set; default 7d
 */
public record ScaleConfig(Mode mode, Duration interval, long lagPerReplica, int minReplicas, Duration scaleDownAfter,
                          String kafkaBootstrap, String namespace, String deployment, int localMax,
                          String localMainClass, Duration localStopWait, int maxFloors, Duration maxFloorFor) {

    public static final String DEFAULT_DEPLOYMENT = "tern-bypass-consumer";
    public static final String DEFAULT_MAIN = "io.tern.bypass.BypassConsumerMain";

    public enum Mode { OFF, KUBERNETES, LOCAL }

    public ScaleConfig {
        ConfigException.require(mode != null, "ratecontrol.scale.mode must be off, kubernetes or local");
        ConfigException.require(interval != null && interval.toMillis() >= 10 && interval.compareTo(Duration.ofMinutes(5)) <= 0,
                "ratecontrol.scale.interval must be between 10ms and 5m, got " + interval);
        ConfigException.require(lagPerReplica >= 1, "ratecontrol.scale.lag-per-replica must be >= 1, got " + lagPerReplica);
        ConfigException.require(minReplicas >= 0 && minReplicas <= ReplicaFloor.MAX_REPLICAS,
                "ratecontrol.scale.min-replicas must be in [0, " + ReplicaFloor.MAX_REPLICAS + "], got " + minReplicas);
        ConfigException.require(scaleDownAfter != null && !scaleDownAfter.isNegative()
                        && scaleDownAfter.compareTo(Duration.ofDays(1)) <= 0,
                "ratecontrol.scale.scale-down-after must be between 0 and 1d, got " + scaleDownAfter);
        ConfigException.require(kafkaBootstrap != null && !kafkaBootstrap.isBlank(), "ratecontrol.scale.kafka-bootstrap must be set");
        ConfigException.require(namespace != null && !namespace.isBlank(), "ratecontrol.scale.namespace must be set");
        ConfigException.require(deployment != null && !deployment.isBlank(), "ratecontrol.scale.deployment must be set");
        ConfigException.require(localMax >= 1 && localMax <= 64, "ratecontrol.scale.local-max must be in [1, 64], got " + localMax);
        ConfigException.require(localMainClass != null && !localMainClass.isBlank(), "ratecontrol.scale.local-main-class must be set");
        ConfigException.require(localStopWait != null && !localStopWait.isNegative()
                        && localStopWait.compareTo(Duration.ofMinutes(5)) <= 0,
                "ratecontrol.scale.local-stop-wait must be between 0 and 5m, got " + localStopWait);
        ConfigException.require(maxFloors >= 1 && maxFloors <= 100_000, "ratecontrol.scale.max-floors must be in [1, 100000]");
        ConfigException.require(maxFloorFor != null && maxFloorFor.toMillis() >= 1000,
                "ratecontrol.scale.max-floor-for must be >= 1s, got " + maxFloorFor);
    }

    /** How often the buffer's backlog is read: every second, or as often as the scaler decides if that is faster. */
    public Duration backlogRefresh() {
        return interval.compareTo(Duration.ofSeconds(1)) < 0 ? interval : Duration.ofSeconds(1);
    }

    public static ScaleConfig defaults() {
        return from(Settings.empty());
    }

    public static ScaleConfig from(Settings s) {
        String mode = s.string("ratecontrol.scale.mode", "off").trim().toUpperCase(Locale.ROOT);
        Mode parsed;
        try {
            parsed = Mode.valueOf(mode);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("ratecontrol.scale.mode must be off, kubernetes or local, got '"
                    + s.string("ratecontrol.scale.mode", "") + "'");
        }
        return new ScaleConfig(parsed,
                s.duration("ratecontrol.scale.interval", Duration.ofSeconds(5)),
                s.longValue("ratecontrol.scale.lag-per-replica", 10_000),
                s.integer("ratecontrol.scale.min-replicas", 1),
                s.duration("ratecontrol.scale.scale-down-after", Duration.ofMinutes(5)),
                s.string("ratecontrol.scale.kafka-bootstrap", "127.0.0.1:9092"),
                s.string("ratecontrol.scale.namespace", "default"),
                s.string("ratecontrol.scale.deployment", DEFAULT_DEPLOYMENT),
                s.integer("ratecontrol.scale.local-max", 4),
                s.string("ratecontrol.scale.local-main-class", DEFAULT_MAIN),
                s.duration("ratecontrol.scale.local-stop-wait", Duration.ofSeconds(10)),
                s.integer("ratecontrol.scale.max-floors", ReplicaFloorRepository.DEFAULT_MAX_FLOORS),
                s.duration("ratecontrol.scale.max-floor-for", Duration.ofDays(7)));
    }
}
