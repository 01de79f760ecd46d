package io.tern.logic.config;

import io.tern.pipeline.group.RecoveryConfig;
import io.tern.pipeline.link.LinkConfig;
import io.tern.logic.auth.AppCredentials;
import io.tern.logic.callback.CallbackConfig;
import io.tern.pipeline.group.AckFilterConfig;
import io.tern.pipeline.buffer.BufferConfig;
import io.tern.pipeline.kafka.ConsumerPolicy;
import io.tern.pipeline.permit.PermitConfig;
import io.tern.logic.limits.LimitsConfig;
import io.tern.pipeline.redelivery.RedeliveryConfig;
import io.tern.logic.schedule.ScheduleConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.http.HttpLimits;
import io.tern.runtime.config.Settings;
import io.tern.runtime.tls.TlsConfig;
import io.tern.store.redis.RedisOutage;
import io.tern.store.task.TaskRepository;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Logic node configuration, keys {@code logic.*}. Apps come from {@code logic.apps.<appId>.key}
 * and {@code logic.apps.<appId>.secret}.
 *
 * @param nodeId          0..1023, part of every msgId this node issues, leased in Redis so no two nodes hold it;
 *                        {@link #AUTO_NODE_ID} ({@code logic.node-id=auto}, the default) leases a free one
 * @param authTokenCache  verified auth tokens remembered so their HMAC is not redone per call (0: off)
 * @param maxBodyBytes    request bodies over this answer 413 (a message: single push, task payload)
 * @param maxListBodyBytes the same for calls carrying up to 1,000 regIds (list push, tag membership)
 * @param queueMax        offline queue bound per device
 * @param brokerMaxInFlight push commands awaiting a broker's reply, per broker; beyond it the API answers 429
 * @param statusBatchMax  single-push status marks (sent / offline) recorded in one Redis call at most
 * @param receiptApplyMax device acks applied in one Redis script call (one round trip; Redis runs nothing else meanwhile)
 * @param tagResolvers    threads resolving tag expressions; {@code tagQueue} more may wait, beyond that 429
 * @param tagChunk        regIds per tag-push job (≤ 1000)
 * @param devMode         {@code logic.dev-mode}, default false: only in dev mode may the development auth-token secret
 *                        be used (anyone can forge auth tokens, so push as any app, with it)
 * @param httpLimits      the API port's request deadline, keep-alive timeout and connection caps
 *                        ({@code logic.http-*}, see {@link HttpLimits})
 * @param tls             TLS of the push API and of the links to brokers, keys {@code logic.tls.*} (see
 *                        {@link TlsConfig}); links to brokers speak TLS when {@code logic.tls.ca} is set, verify
 *                        the broker against it and present this node's certificate when TLS is enabled
 * @param brokerLink      how links to brokers' internal ports authenticate ({@link LinkConfig})
 * @param redisReconnectMax longest pause between attempts to reconnect to Redis (Lettuce and Redisson), so the API
 *                        serves again within about this much of Redis coming back; default 500ms
 * @param redelivery      retries of single pushes whose direct PUSH failed or was never made, keys
 *                        {@code logic.redelivery.*} ({@link RedeliveryConfig})
 * @param recovery        node id and task leases, and the sweeper that takes over tasks of a dead node
 * @param ackFilter       the per-broadcast filter that counts each device's ack once ({@link AckFilterConfig})
 * @param consumer        how the Kafka consumers (receipts, jobs) restart, retry and dead-letter
 *                        ({@code logic.consumer.*}, see {@link ConsumerPolicy})
 * @param permit          how this node follows the rate controller's permit ({@code logic.permit.*}, see
 *                        {@link PermitConfig}); pushes beyond this node's share go to the burst buffer
 * @param buffer          the burst buffer pushes beyond the permit are written to ({@code logic.buffer.*}, see
 *                        {@link BufferConfig})
 * @param redisOutageAfter {@code logic.redis-outage-after}, default 2 s: Redis silent this long is an outage (the node
 *                        switches to outage mode, see docs/reliability.md)
 * @param diskKvUri       {@code logic.disk-kv-uri}: the disk KV (Kvrocks) that outlives a Redis outage; default
 *                        {@code redis://127.0.0.1:6666}, none in dev mode (null: outage mode refuses with 503 what
 *                        needs it)
 * @param sreToken        {@code logic.sre-token} (env {@code TERN_LOGIC_SRE_TOKEN}), at least 16 characters: the bearer
 *                        token of the SRE admin API ({@code /v1/admin/...}: apps, their secrets and limits, any app's
 *                        tasks); unset (the default) turns the admin API off (its routes answer 404)
 * @param appsRefresh     {@code logic.apps-refresh}, default 1 s: how often the apps and limits the admin API stored
 *                        in Redis are re-read (a change made through another node is in force here within this)
 * @param appsMax         {@code logic.apps-max}, default 10000: apps the admin API may create at most (409 beyond)
 * @param recentTasks     {@code logic.recent-tasks}, default {@value TaskRepository#DEFAULT_RECENT_KEPT}: group-push
 *                        tasks the SRE console's recent-tasks index keeps (trimmed on each create), 1 to
 *                        {@value TaskRepository#MAX_RECENT_KEPT}; set it alike on every logic node and as
 *                        {@code scheduler.recent-tasks}, which bounds what the console may ask for
 * @param receiptConnection {@code logic.receipt-connection}, default true: the receipt consumer's ack scripts go over
 *                        a Redis connection of their own (one more per node), so API calls are not answered only after
 *                        the bursts of scripts queued ahead of them on the shared one (issue 14's 8-deep broadcasts)
 * @param receiptCountedMax {@code logic.receipt-counted-max}, default 2,000,000: devices of the broadcasts' counted
 *                        sets the receipt consumer holds in memory (24–48 bytes each), the least recently counted
 *                        broadcasts dropped first; set it above the largest broadcast's audience, or that broadcast's
 *                        set is read again from Redis for each of its count records ({@code CountedDevices})
 */
public record LogicConfig(String id, int nodeId, HttpEndpoint http, String redisUri, Duration redisTimeout,
                          String kafkaBootstrap, String authTokenSecret, Duration authTokenTtl,
                          Duration authClockSkew, int authTokenCache, int maxBodyBytes, int maxListBodyBytes, Duration defaultTtl, Duration maxTtl,
                          int queueMax, Duration statusRetention, Duration idempotencyWindow,
                          Duration brokerConnectTimeout, Duration brokerReplyTimeout,
                          Duration broadcastReplyTimeout, int brokerMaxInFlight, int statusBatchMax,
                          Duration registryRefresh, String receiptGroup, int receiptBatchMax, int receiptApplyMax,
                          int tagResolvers, int tagQueue, int tagChunk, String jobGroup,
                          CallbackConfig callback, ScheduleConfig schedule, LimitsConfig limits,
                          Map<String, AppCredentials> apps, boolean devMode, HttpLimits httpLimits,
                          TlsConfig tls, LinkConfig brokerLink, Duration redisReconnectMax,
                          RedeliveryConfig redelivery, RecoveryConfig recovery, AckFilterConfig ackFilter,
                          ConsumerPolicy consumer, PermitConfig permit, BufferConfig buffer,
                          Duration redisOutageAfter, String diskKvUri, SreToken sreToken, Duration appsRefresh,
                          int appsMax, int recentTasks, boolean receiptConnection, long receiptCountedMax) {

    public static final String DEFAULT_AUTH_TOKEN_SECRET = "tern-dev-auth-token-secret";
    /** {@code logic.node-id=auto}: lease any free node id. */
    public static final int AUTO_NODE_ID = -1;

    public LogicConfig {
        ConfigException.require(nodeId >= AUTO_NODE_ID && nodeId <= 1023, "logic.node-id must be auto or in [0, 1023]");
        ConfigException.require(authTokenSecret.length() >= 16, "logic.auth-token-secret must be >= 16 chars");
        ConfigException.require(authTokenCache >= 0 && authTokenCache <= 1_000_000, "logic.auth-token-cache must be in [0, 1000000]");
        ConfigException.require(maxBodyBytes >= 256 && maxBodyBytes <= 1024 * 1024, "logic.max-body-bytes out of range");
        ConfigException.require(maxListBodyBytes >= maxBodyBytes && maxListBodyBytes <= 4 * 1024 * 1024,
                "logic.max-list-body-bytes must be in [logic.max-body-bytes, 4 MiB]");
        ConfigException.require(!defaultTtl.isNegative() && !defaultTtl.isZero() && defaultTtl.compareTo(maxTtl) <= 0,
                "logic.default-ttl must be in (0, logic.max-ttl]");
        ConfigException.require(queueMax >= 1 && queueMax <= 10_000, "logic.queue-max must be in [1, 10000]");
        ConfigException.require(brokerMaxInFlight >= 1, "logic.broker-max-in-flight must be >= 1");
        ConfigException.require(statusBatchMax >= 1 && statusBatchMax <= 10_000, "logic.status-batch-max must be in [1, 10000]");
        ConfigException.require(receiptBatchMax >= 1 && receiptBatchMax <= 10_000, "logic.receipt-batch-max must be in [1, 10000]");
        ConfigException.require(receiptApplyMax >= 1 && receiptApplyMax <= 1_000, "logic.receipt-apply-max must be in [1, 1000]");
        ConfigException.require(tagResolvers >= 1 && tagResolvers <= 64, "logic.tag-resolvers must be in [1, 64]");
        ConfigException.require(tagQueue >= 1 && tagQueue <= 100_000, "logic.tag-queue must be in [1, 100000]");
        ConfigException.require(tagChunk >= 1 && tagChunk <= 1000, "logic.tag-chunk must be in [1, 1000]");
        ConfigException.require(receiptCountedMax >= 1_000 && receiptCountedMax <= 1_000_000_000L,
                "logic.receipt-counted-max must be in [1000, 1000000000]");
        apps = Map.copyOf(apps);
        ConfigException.require(devMode || !DEFAULT_AUTH_TOKEN_SECRET.equals(authTokenSecret),
                "logic.auth-token-secret is the development secret, which anyone can use to forge auth tokens: "
                        + "set your own (TERN_LOGIC_AUTH_TOKEN_SECRET), or logic.dev-mode=true on a dev machine");
        ConfigException.require(httpLimits != null, "logic.http-* must be set");
        ConfigException.require(tls != null, "logic.tls must be set (TlsConfig.OFF for none)");
        ConfigException.require(brokerLink != null, "logic broker link settings are required");
        ConfigException.require(redisReconnectMax != null && redisReconnectMax.compareTo(Duration.ofMillis(10)) >= 0
                        && redisReconnectMax.compareTo(Duration.ofSeconds(30)) <= 0,
                "logic.redis-reconnect-max must be between 10ms and 30s, got " + redisReconnectMax);
        ConfigException.require(recovery != null, "logic recovery settings are required");
        ConfigException.require(ackFilter != null, "logic ack filter settings are required");
        ConfigException.require(consumer != null, "logic.consumer.* settings are required");
        // One ack-apply call parks all its receipts or applies nothing: they must fit in an empty outbox.
        ConfigException.require(callback == null || callback.outbox().max() >= receiptApplyMax,
                "logic.callback.outbox-max must be >= logic.receipt-apply-max");
        ConfigException.require(devMode || !brokerLink.usesDevSecret(),
                "logic.cluster-secret is the development secret, which anyone can use to pose as a logic node to "
                        + "brokers: set the brokers' secret (TERN_LOGIC_CLUSTER_SECRET), or logic.dev-mode=true on a dev machine");
        ConfigException.require(redelivery != null, "logic.redelivery.* settings are required");
        ConfigException.require(permit != null, "logic.permit.* settings are required");
        ConfigException.require(buffer != null, "logic.buffer.* settings are required");
        // Probed every 250 ms: an outage is entered within after + 250 ms (the 3 s needs after <= 2.5 s).
        ConfigException.require(redisOutageAfter != null && redisOutageAfter.compareTo(Duration.ofMillis(500)) >= 0
                        && redisOutageAfter.compareTo(Duration.ofSeconds(60)) <= 0,
                "logic.redis-outage-after must be between 500ms and 60s, got " + redisOutageAfter);
        diskKvUri = diskKvUri == null || diskKvUri.isBlank() ? null : diskKvUri.trim();
        // A check due while the direct PUSH may still be answered would send it twice.
        ConfigException.require(redelivery.checkDelay().compareTo(brokerReplyTimeout) > 0
                        && redelivery.lease().compareTo(brokerReplyTimeout) > 0,
                "logic.redelivery.check-delay and logic.redelivery.lease must be longer than logic.broker-reply-timeout");
        ConfigException.require(appsRefresh != null && appsRefresh.compareTo(Duration.ofMillis(100)) >= 0
                        && appsRefresh.compareTo(Duration.ofMinutes(5)) <= 0,
                "logic.apps-refresh must be between 100ms and 5m, got " + appsRefresh);
        ConfigException.require(appsMax >= 1 && appsMax <= 1_000_000, "logic.apps-max must be in [1, 1000000], got " + appsMax);
        ConfigException.require(recentTasks >= 1 && recentTasks <= TaskRepository.MAX_RECENT_KEPT,
                "logic.recent-tasks must be in [1, " + TaskRepository.MAX_RECENT_KEPT + "], got " + recentTasks);
    }

    /** Links to brokers speak TLS once there is a CA to verify the brokers against. */
    public boolean brokerLinksUseTls() {
        return tls.ca() != null;
    }

    public static LogicConfig from(Settings s) {
        Map<String, AppCredentials> apps = new TreeMap<>();
        Map<String, String> raw = s.subtree("logic.apps");
        raw.keySet().stream().map(k -> k.substring(0, Math.max(0, k.indexOf('.')))).filter(a -> !a.isEmpty())
                .distinct()
                .forEach(a -> apps.put(a, new AppCredentials(a, raw.get(a + ".key"), raw.get(a + ".secret"))));
        boolean devMode = s.bool("logic.dev-mode", false);
        LogicConfig c = new LogicConfig(
                s.string("logic.id", "l1"),
                nodeId(s.string("logic.node-id", "auto")),
                new HttpEndpoint(s.string("logic.host", "127.0.0.1"), s.integer("logic.port", 8080)),
                s.string("logic.redis-uri", "redis://127.0.0.1:6390"),
                s.duration("logic.redis-timeout", Duration.ofSeconds(2)),
                s.string("logic.kafka-bootstrap", "127.0.0.1:9092"),
                s.string("logic.auth-token-secret", DEFAULT_AUTH_TOKEN_SECRET),
                s.duration("logic.auth-token-ttl", Duration.ofHours(24)),
                s.duration("logic.auth-clock-skew", Duration.ofMinutes(5)),
                s.integer("logic.auth-token-cache", 10_000),
                s.integer("logic.max-body-bytes", 4096),
                s.integer("logic.max-list-body-bytes", 256 * 1024),
                s.duration("logic.default-ttl", Duration.ofSeconds(86_400)),
                s.duration("logic.max-ttl", Duration.ofSeconds(604_800)),
                s.integer("logic.queue-max", 100),
                s.duration("logic.status-retention", Duration.ofDays(1)),
                s.duration("logic.idempotency-window", Duration.ofHours(24)),
                s.duration("logic.broker-connect-timeout", Duration.ofSeconds(2)),
                s.duration("logic.broker-reply-timeout", Duration.ofSeconds(3)),
                s.duration("logic.broadcast-reply-timeout", Duration.ofSeconds(60)),
                s.integer("logic.broker-max-in-flight", 20_000),
                s.integer("logic.status-batch-max", 256),
                s.duration("logic.registry-refresh", Duration.ofSeconds(1)),
                s.string("logic.receipt-group", "tern-receipts"),
                s.integer("logic.receipt-batch-max", 500),
                // ~100 acks keep one script run around a millisecond: single pushes are not held up behind it.
                s.integer("logic.receipt-apply-max", 100),
                s.integer("logic.tag-resolvers", 2),
                s.integer("logic.tag-queue", 100),
                s.integer("logic.tag-chunk", 1000),
                s.string("logic.job-group", "tern-jobs"),
                CallbackConfig.from(s),
                ScheduleConfig.from(s),
                LimitsConfig.from(s),
                apps,
                devMode,
                HttpLimits.from(s, "logic"),
                TlsConfig.from(s, "logic", devMode),
                LinkConfig.from(s),
                s.duration("logic.redis-reconnect-max", Duration.ofMillis(500)),
                RedeliveryConfig.from(s),
                RecoveryConfig.from(s),
                AckFilterConfig.from(s),
                ConsumerPolicy.from(s),
                PermitConfig.from(s, "logic"),
                BufferConfig.from(s, "logic"),
                s.duration("logic.redis-outage-after", RedisOutage.DEFAULT_AFTER),
                // Kvrocks' default port; a dev machine runs without one unless told (outage mode then refuses 503).
                s.string("logic.disk-kv-uri", devMode ? "" : "redis://127.0.0.1:6666"),
                sreToken(s.string("logic.sre-token", null)),
                s.duration("logic.apps-refresh", Duration.ofSeconds(1)),
                s.integer("logic.apps-max", 10_000),
                s.integer("logic.recent-tasks", TaskRepository.DEFAULT_RECENT_KEPT),
                s.bool("logic.receipt-connection", true),
                s.longValue("logic.receipt-counted-max", 2_000_000L));
        s.warnUnread("logic.");
        return c;
    }

    private static SreToken sreToken(String v) {
        return v == null || v.isBlank() ? null : new SreToken(v.trim());
    }

    private static int nodeId(String v) {
        if (v.equalsIgnoreCase("auto")) {
            return AUTO_NODE_ID;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException("logic.node-id must be auto or a number in [0, 1023]: " + v);
        }
    }
}
