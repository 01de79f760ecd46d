package io.tern.bypass.config;

import io.tern.bypass.drain.DrainConfig;
import io.tern.pipeline.group.AckFilterConfig;
import io.tern.pipeline.group.RecoveryConfig;
import io.tern.pipeline.kafka.ConsumerPolicy;
import io.tern.pipeline.link.LinkConfig;
import io.tern.pipeline.permit.PermitConfig;
import io.tern.pipeline.redelivery.RedeliveryConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpLimits;
import io.tern.runtime.tls.TlsConfig;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The bypass consumer's configuration, keys {@code bypass.*} (environment {@code TERN_BYPASS_*}); every default runs
 * on one machine. The pipeline settings mean what the logic node's {@code logic.*} keys of the same name mean and
 * must equal them (both roles write the same messages and tasks): queue bound, TTLs, retention, broker links.
 *
 * @param id                instance id: logs, the Kafka client id, the permit obeyer id, the msgId node-id holder
 *                          ({@code bypass-<id>}); default {@value #DEFAULT_ID}. Unique per instance.
 * @param http              admin port with {@code /metrics} and {@code /health} ({@code bypass.host}, {@code bypass.port});
 *                          default 127.0.0.1:{@value #DEFAULT_PORT}; port 0 picks a free one (dev mode runs several)
 * @param redisUri          default {@code redis://127.0.0.1:6390}
 * @param redisTimeout      per-command timeout; default 2s
 * @param redisReconnectMax longest pause between attempts to reconnect to Redis; default 500ms
 * @param kafkaBootstrap    the Kafka holding {@code tern.buffer}; default 127.0.0.1:9092
 * @param drain             how the buffer is drained: windows, poll size, commits, retries ({@link DrainConfig})
 * @param devMode           {@code bypass.dev-mode}, default false: only then may the development cluster secret be used
 * @param nodeId            msgId node id ({@code bypass.node-id}, default auto); group pushes issue ids
 * @param queueMax          {@code bypass.queue-max}, default 100: offline queue bound per device
 * @param maxTtl            {@code bypass.max-ttl}, default 7d
 * @param statusRetention   {@code bypass.status-retention}, default 1d
 * @param idempotencyWindow {@code bypass.idempotency-window}, default 24h
 * @param brokerConnectTimeout  default 2s
 * @param brokerReplyTimeout    default 3s
 * @param broadcastReplyTimeout default 60s
 * @param brokerMaxInFlight push commands awaiting one broker's reply; default 20000
 * @param statusBatchMax    status marks recorded in one Redis call; default 256
 * @param registryRefresh   how often the live broker list is re-read; default 1s
 * @param tagResolvers      threads resolving tag pushes started from the buffer; default 2
 * @param tagQueue          tag pushes waiting for a resolver; default 100
 * @param tagChunk          regIds per tag-push job; default 1000
 * @param jobGroup          the tag-push job consumer group, shared with the logic nodes; default tern-jobs
 * @param httpLimits        limits of the admin port ({@code bypass.http-*})
 * @param tls               TLS of the links to brokers ({@code bypass.tls.*}); links use TLS once a CA is set
 * @param brokerLink        cluster secret and link auth timeout ({@code bypass.cluster-secret}, {@code bypass.link-auth-timeout})
 * @param redelivery        {@code bypass.redelivery.*}, as the logic node's
 * @param recovery          {@code bypass.node-id-lease-ttl}, task leases and sweeps, as the logic node's
 * @param ackFilter         {@code bypass.ack-filter-*}, as the logic node's
 * @param consumer          the tag-push job consumer's restarts ({@code bypass.consumer.*})
 * @param permit            how this instance follows the rate controller's permit ({@code bypass.permit.*}, see
 *                          {@link PermitConfig}); its {@code fallback-rate} paces the drain while no controller runs
 */
public record BypassConfig(String id, HttpEndpoint http, String redisUri, Duration redisTimeout,
                           Duration redisReconnectMax, String kafkaBootstrap, DrainConfig drain, boolean devMode,
                           int nodeId, int queueMax, Duration maxTtl, Duration statusRetention,
                           Duration idempotencyWindow, Duration brokerConnectTimeout, Duration brokerReplyTimeout,
                           Duration broadcastReplyTimeout, int brokerMaxInFlight, int statusBatchMax,
                           Duration registryRefresh, int tagResolvers, int tagQueue, int tagChunk, String jobGroup,
                           HttpLimits httpLimits, TlsConfig tls, LinkConfig brokerLink, RedeliveryConfig redelivery,
                           RecoveryConfig recovery, AckFilterConfig ackFilter, ConsumerPolicy consumer,
                           PermitConfig permit) {

    public static final String DEFAULT_ID = "bp1";
    public static final int DEFAULT_PORT = 8085;
    /** {@code bypass.node-id=auto}: lease any free msgId node id. */
    public static final int AUTO_NODE_ID = -1;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public BypassConfig {
        ConfigException.require(id != null && NAME.matcher(id).matches(), "bypass.id must match " + NAME + ", got '" + id + "'");
        ConfigException.require(http != null, "bypass.host/port must be set");
        ConfigException.require(kafkaBootstrap != null && !kafkaBootstrap.isBlank(), "bypass.kafka-bootstrap must be set");
        ConfigException.require(drain != null, "bypass drain settings are required");
        ConfigException.require(redisReconnectMax.toMillis() >= 10 && redisReconnectMax.toSeconds() <= 30,
                "bypass.redis-reconnect-max must be in [10ms, 30s]");
        ConfigException.require(nodeId >= AUTO_NODE_ID && nodeId <= 1023, "bypass.node-id must be auto or in [0, 1023]");
        ConfigException.require(queueMax >= 1 && queueMax <= 10_000, "bypass.queue-max must be in [1, 10000]");
        ConfigException.require(brokerMaxInFlight >= 1, "bypass.broker-max-in-flight must be >= 1");
        ConfigException.require(statusBatchMax >= 1 && statusBatchMax <= 10_000, "bypass.status-batch-max must be in [1, 10000]");
        ConfigException.require(tagResolvers >= 1 && tagResolvers <= 64, "bypass.tag-resolvers must be in [1, 64]");
        ConfigException.require(tagQueue >= 1 && tagQueue <= 100_000, "bypass.tag-queue must be in [1, 100000]");
        ConfigException.require(tagChunk >= 1 && tagChunk <= 1000, "bypass.tag-chunk must be in [1, 1000]");
        ConfigException.require(httpLimits != null && tls != null && brokerLink != null && redelivery != null
                && recovery != null && ackFilter != null && consumer != null && permit != null,
                "bypass pipeline settings are required");
        ConfigException.require(devMode || !brokerLink.usesDevSecret(),
                "bypass.cluster-secret is the development secret: set the brokers' secret (TERN_BYPASS_CLUSTER_SECRET), "
                        + "or bypass.dev-mode=true on a dev machine");
        // A check due while the direct PUSH may still be answered would send it twice.
        ConfigException.require(redelivery.checkDelay().compareTo(brokerReplyTimeout) > 0
                        && redelivery.lease().compareTo(brokerReplyTimeout) > 0,
                "bypass.redelivery.check-delay and bypass.redelivery.lease must be longer than bypass.broker-reply-timeout");
    }

    /** Links to brokers speak TLS once there is a CA to verify the brokers against. */
    public boolean brokerLinksUseTls() {
        return tls.ca() != null;
    }

    public static BypassConfig from(Settings s) {
        boolean devMode = s.bool("bypass.dev-mode", false);
        BypassConfig c = new BypassConfig(
                s.string("bypass.id", DEFAULT_ID),
                new HttpEndpoint(s.string("bypass.host", "127.0.0.1"), s.integer("bypass.port", DEFAULT_PORT)),
                s.string("bypass.redis-uri", "redis://127.0.0.1:6390"),
                s.duration("bypass.redis-timeout", Duration.ofSeconds(2)),
                s.duration("bypass.redis-reconnect-max", Duration.ofMillis(500)),
                s.string("bypass.kafka-bootstrap", "127.0.0.1:9092"),
                DrainConfig.from(s),
                devMode,
                nodeId(s.string("bypass.node-id", "auto")),
                s.integer("bypass.queue-max", 100),
                s.duration("bypass.max-ttl", Duration.ofSeconds(604_800)),
                s.duration("bypass.status-retention", Duration.ofDays(1)),
                s.duration("bypass.idempotency-window", Duration.ofHours(24)),
                s.duration("bypass.broker-connect-timeout", Duration.ofSeconds(2)),
                s.duration("bypass.broker-reply-timeout", Duration.ofSeconds(3)),
                s.duration("bypass.broadcast-reply-timeout", Duration.ofSeconds(60)),
                s.integer("bypass.broker-max-in-flight", 20_000),
                s.integer("bypass.status-batch-max", 256),
                s.duration("bypass.registry-refresh", Duration.ofSeconds(1)),
                s.integer("bypass.tag-resolvers", 2),
                s.integer("bypass.tag-queue", 100),
                s.integer("bypass.tag-chunk", 1000),
                s.string("bypass.job-group", "tern-jobs"),
                HttpLimits.from(s, "bypass"),
                TlsConfig.from(s, "bypass", devMode),
                LinkConfig.from(s, "bypass"),
                RedeliveryConfig.from(s, "bypass"),
                RecoveryConfig.from(s, "bypass"),
                AckFilterConfig.from(s, "bypass"),
                ConsumerPolicy.from(s, "bypass"),
                PermitConfig.from(s, "bypass"));
        s.warnUnread("bypass.");
        return c;
    }

    private static int nodeId(String v) {
        if (v.equalsIgnoreCase("auto")) {
            return AUTO_NODE_ID;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException("bypass.node-id must be auto or a number in [0, 1023]: " + v);
        }
    }
}
