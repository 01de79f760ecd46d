package io.tern.scheduler.config;

import io.tern.store.redis.RedisStore;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpLimits;
import io.tern.runtime.tls.TlsConfig;
import io.tern.store.region.RegionPolicyRepository;
import io.tern.store.task.TaskRepository;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The global scheduler's configuration, read from {@link Settings} keys {@code scheduler.*}
 * (environment {@code TERN_SCHEDULER_*}). Every default runs on one machine.
 *
 * @param id                instance id (logs, metric tag, the leader lease's holder); default {@value #DEFAULT_ID}
 * @param http              where the admin API listens ({@code scheduler.host}, {@code scheduler.port});
 *                          default {@value #DEFAULT_HOST}:{@value #DEFAULT_PORT}
 * @param redisUri          Redis holding the policy, the lease and the broker registry; default {@value #DEFAULT_REDIS_URI}
 * @param redisTimeout      per-command timeout; default 2s
 * @param redisReconnectMax longest pause between attempts to reconnect to Redis; default 500ms
 * @param sreToken          bearer token every admin call must carry ({@code scheduler.sre-token}), at least
 *                          {@value #MIN_TOKEN_LENGTH} characters; required outside dev mode, generated in dev mode when unset
 * @param devMode           {@code scheduler.dev-mode}, default false
 * @param regions           regions the policy starts with ({@code scheduler.regions}, comma list); default
 *                          {@value #DEFAULT_REGIONS}. Regions brokers report that the policy lacks are added as active.
 * @param leaseTtl          the leader lease's TTL, renewed every third of it; default 3s
 * @param tick              how often the leader looks at every move; default 250ms
 * @param stages            share of a move's devices moved by the end of each stage, increasing, the last 1.0
 *                          ({@code scheduler.stages}); default {@value #DEFAULT_STAGES}
 * @param minRate           lowest {@code ratePerSecond} an SRE may ask for; default 1
 * @param maxRate           highest {@code ratePerSecond}; default 100000
 * @param defaultRate       {@code ratePerSecond} of a move that names none; default {@value #DEFAULT_RATE}
 * @param pauseFailureRatio a move pauses when (refused + failed) / all connects on the target's brokers over
 *                          {@code statsWindow} exceeds this; default 0.01
 * @param pauseConnectP99   ... or when a target broker's connect p99 exceeds this; default 1s
 * @param resumeAfter       a paused move resumes once the target was healthy this long; default 5s
 * @param statsWindow       window of the connect counters and of the observed move rate; default 5s
 * @param httpLimits        limits of the admin port ({@code scheduler.http-*}, see {@link HttpLimits})
 * @param tls               HTTPS of the admin API ({@code scheduler.tls.*}, see {@link TlsConfig}); default off
 * @param registryRefresh   how often the live broker list is re-read; default 500ms
 * @param policyPoll        how often the policy is re-read when no change was pushed; default 500ms
 * @param logMax            audit log entries kept; default {@value RegionPolicyRepository#DEFAULT_LOG_MAX}
 * @param sreTokenGenerated true when dev mode generated {@code sreToken} (the banner prints it)
 * @param stageStall        a move stage in which no covered device left for this long ends (the brokers count
 *                          their share from their own, slightly different, starting numbers); default 3s
 * @param controllerUrl     the rate controller's admin API ({@code scheduler.controller-url}), which the console's
 *                          throttle and buffer views read through this scheduler with the caller's SRE token (so the
 *                          controller must accept the same token); default {@value #DEFAULT_CONTROLLER_URL}
 * @param recentTasks       the most recent tasks the console may list ({@code scheduler.recent-tasks}, the bound of
 *                          {@code GET /v1/tasks?limit}), 1..{@value TaskRepository#MAX_RECENT_KEPT}; set it as the logic
 *                          nodes' {@code logic.recent-tasks}, which is what they keep; default
 *                          {@value TaskRepository#DEFAULT_RECENT_KEPT}
 */
public record SchedulerConfig(String id, HttpEndpoint http, String redisUri, Duration redisTimeout,
                              Duration redisReconnectMax, String sreToken, boolean devMode, List<String> regions,
                              Duration leaseTtl, Duration tick, List<Double> stages, int minRate, int maxRate,
                              int defaultRate, double pauseFailureRatio, Duration pauseConnectP99,
                              Duration resumeAfter, Duration statsWindow, HttpLimits httpLimits, TlsConfig tls,
                              Duration registryRefresh, Duration policyPoll, int logMax, boolean sreTokenGenerated,
                              Duration stageStall, URI controllerUrl, int recentTasks) {

    public static final String DEFAULT_ID = "s1";
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8082;
    public static final String DEFAULT_REDIS_URI = "redis://127.0.0.1:6390";
    public static final String DEFAULT_REGIONS = "local";
    public static final String DEFAULT_STAGES = "0.01,0.05,0.25,1.0";
    public static final int DEFAULT_RATE = 500;
    public static final int MIN_TOKEN_LENGTH = 16;
    public static final String DEFAULT_CONTROLLER_URL = "http://127.0.0.1:8084";

    /** Ids and region names: safe in logs, metric tags, Redis keys and URLs. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    public SchedulerConfig {
        ConfigException.require(id != null && NAME.matcher(id).matches() && !id.contains("|"),
                "scheduler.id must match " + NAME + ", got '" + id + "'");
        ConfigException.require(http != null, "scheduler.host/port must be set");
        ConfigException.require(RedisStore.isRedisUri(redisUri),
                "scheduler.redis-uri must be a redis://, rediss:// or redis-cluster:// URI, got '" + redisUri + "'");
        requireBetween("scheduler.redis-timeout", redisTimeout, Duration.ofMillis(10), Duration.ofMinutes(1));
        requireBetween("scheduler.redis-reconnect-max", redisReconnectMax, Duration.ofMillis(10), Duration.ofSeconds(30));
        ConfigException.require(sreToken != null && sreToken.length() >= MIN_TOKEN_LENGTH,
                "scheduler.sre-token must be set, at least " + MIN_TOKEN_LENGTH + " characters (TERN_SCHEDULER_SRE_TOKEN), "
                        + "or scheduler.dev-mode=true on a dev machine to have one generated");
        ConfigException.require(regions != null && !regions.isEmpty()
                        && regions.stream().allMatch(r -> r != null && NAME.matcher(r).matches()),
                "scheduler.regions must be a comma list of names matching " + NAME + ", got " + regions);
        requireBetween("scheduler.lease-ttl", leaseTtl, Duration.ofMillis(300), Duration.ofMinutes(5));
        requireBetween("scheduler.tick", tick, Duration.ofMillis(10), Duration.ofSeconds(10));
        ConfigException.require(stages != null && validStages(stages),
                "scheduler.stages must be increasing fractions in (0, 1] ending with 1.0, at most 20, got " + stages);
        ConfigException.require(minRate >= 1 && minRate <= maxRate && maxRate <= 10_000_000,
                "scheduler.min-rate and max-rate must satisfy 1 <= min-rate <= max-rate <= 10000000, got "
                        + minRate + " and " + maxRate);
        ConfigException.require(defaultRate >= minRate && defaultRate <= maxRate,
                "scheduler.default-rate must be between min-rate and max-rate, got " + defaultRate);
        ConfigException.require(pauseFailureRatio > 0 && pauseFailureRatio < 1,
                "scheduler.pause-failure-ratio must be in (0, 1), got " + pauseFailureRatio);
        requireBetween("scheduler.pause-connect-p99", pauseConnectP99, Duration.ofMillis(1), Duration.ofMinutes(1));
        requireBetween("scheduler.resume-after", resumeAfter, Duration.ZERO, Duration.ofHours(1));
        requireBetween("scheduler.stats-window", statsWindow, Duration.ofMillis(100), Duration.ofMinutes(5));
        ConfigException.require(httpLimits != null, "scheduler.http-* must be set");
        ConfigException.require(tls != null, "scheduler.tls must be set (TlsConfig.OFF for none)");
        requireBetween("scheduler.registry-refresh", registryRefresh, Duration.ofMillis(50), Duration.ofMinutes(1));
        requireBetween("scheduler.policy-poll", policyPoll, Duration.ofMillis(50), Duration.ofMinutes(1));
        ConfigException.require(logMax >= 1 && logMax <= 1_000_000,
                "scheduler.log-max must be between 1 and 1000000, got " + logMax);
        requireBetween("scheduler.stage-stall", stageStall, Duration.ofMillis(100), Duration.ofMinutes(10));
        ConfigException.require(controllerUrl != null && ("http".equals(controllerUrl.getScheme())
                        || "https".equals(controllerUrl.getScheme())) && controllerUrl.getHost() != null,
                "scheduler.controller-url must be an http:// or https:// URL with a host, got '" + controllerUrl + "'");
        ConfigException.require(recentTasks >= 1 && recentTasks <= TaskRepository.MAX_RECENT_KEPT,
                "scheduler.recent-tasks must be between 1 and " + TaskRepository.MAX_RECENT_KEPT + ", got " + recentTasks);
        regions = List.copyOf(regions);
        stages = List.copyOf(stages);
    }

    /** Every default, in dev mode (an SRE token is generated). */
    public static SchedulerConfig defaults() {
        return from(Settings.of(Map.of("scheduler.dev-mode", "true")));
    }

    public static SchedulerConfig from(Settings s) {
        boolean devMode = s.bool("scheduler.dev-mode", false);
        String token = s.string("scheduler.sre-token", null);
        boolean generated = token == null && devMode;
        if (generated) {
            byte[] random = new byte[16];
            new SecureRandom().nextBytes(random);
            token = "dev-" + HexFormat.of().formatHex(random);
        }
        SchedulerConfig c = new SchedulerConfig(
                s.string("scheduler.id", DEFAULT_ID),
                new HttpEndpoint(s.string("scheduler.host", DEFAULT_HOST), s.integer("scheduler.port", DEFAULT_PORT)),
                s.string("scheduler.redis-uri", DEFAULT_REDIS_URI),
                s.duration("scheduler.redis-timeout", Duration.ofSeconds(2)),
                s.duration("scheduler.redis-reconnect-max", Duration.ofMillis(500)),
                token,
                devMode,
                s.list("scheduler.regions", List.of(DEFAULT_REGIONS)),
                s.duration("scheduler.lease-ttl", Duration.ofSeconds(3)),
                s.duration("scheduler.tick", Duration.ofMillis(250)),
                fractions("scheduler.stages", s.list("scheduler.stages", List.of(DEFAULT_STAGES.split(",")))),
                s.integer("scheduler.min-rate", 1),
                s.integer("scheduler.max-rate", 100_000),
                s.integer("scheduler.default-rate", DEFAULT_RATE),
                fraction("scheduler.pause-failure-ratio", s.string("scheduler.pause-failure-ratio", "0.01")),
                s.duration("scheduler.pause-connect-p99", Duration.ofSeconds(1)),
                s.duration("scheduler.resume-after", Duration.ofSeconds(5)),
                s.duration("scheduler.stats-window", Duration.ofSeconds(5)),
                HttpLimits.from(s, "scheduler"),
                TlsConfig.from(s, "scheduler", devMode),
                s.duration("scheduler.registry-refresh", Duration.ofMillis(500)),
                s.duration("scheduler.policy-poll", Duration.ofMillis(500)),
                s.integer("scheduler.log-max", RegionPolicyRepository.DEFAULT_LOG_MAX),
                generated,
                s.duration("scheduler.stage-stall", Duration.ofSeconds(3)),
                url("scheduler.controller-url", s.string("scheduler.controller-url", DEFAULT_CONTROLLER_URL)),
                s.integer("scheduler.recent-tasks", TaskRepository.DEFAULT_RECENT_KEPT));
        s.warnUnread("scheduler.");
        return c;
    }

    /** A copy listening on another endpoint (tests use port 0). */
    public SchedulerConfig withHttp(HttpEndpoint endpoint) {
        return new SchedulerConfig(id, endpoint, redisUri, redisTimeout, redisReconnectMax, sreToken, devMode, regions,
                leaseTtl, tick, stages, minRate, maxRate, defaultRate, pauseFailureRatio, pauseConnectP99, resumeAfter,
                statsWindow, httpLimits, tls, registryRefresh, policyPoll, logMax, sreTokenGenerated, stageStall,
                controllerUrl, recentTasks);
    }

    /** A copy whose console reads the rate controller at {@code url} (the local runner's controller listens on port 0). */
    public SchedulerConfig withControllerUrl(URI url) {
        return new SchedulerConfig(id, http, redisUri, redisTimeout, redisReconnectMax, sreToken, devMode, regions,
                leaseTtl, tick, stages, minRate, maxRate, defaultRate, pauseFailureRatio, pauseConnectP99, resumeAfter,
                statsWindow, httpLimits, tls, registryRefresh, policyPoll, logMax, sreTokenGenerated, stageStall, url,
                recentTasks);
    }

    private static URI url(String key, String value) {
        try {
            return new URI(value.trim());
        } catch (java.net.URISyntaxException e) {
            throw new ConfigException(key + " must be a URL, got '" + value + "'");
        }
    }

    private static boolean validStages(List<Double> stages) {
        if (stages.isEmpty() || stages.size() > 20 || stages.get(stages.size() - 1) != 1.0) {
            return false;
        }
        double previous = 0;
        for (Double f : stages) {
            if (f == null || f <= previous || f > 1) {
                return false;
            }
            previous = f;
        }
        return true;
    }

    private static List<Double> fractions(String key, List<String> values) {
        List<Double> out = new ArrayList<>(values.size());
        for (String v : values) {
            out.add(fraction(key, v));
        }
        return out;
    }

    private static double fraction(String key, String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key + " must be a number, got '" + v + "'");
        }
    }

    private static void requireBetween(String key, Duration d, Duration min, Duration max) {
        ConfigException.require(d != null && d.compareTo(min) >= 0 && d.compareTo(max) <= 0,
                key + " must be between " + min + " and " + max + ", got " + d);
    }

    /** Never prints the token. */
    @Override
    public String toString() {
        return "SchedulerConfig[id=" + id + ", http=" + http.host() + ':' + http.port()
                + ", redisUri=" + Settings.redactUris(redisUri) + ", redisTimeout=" + redisTimeout
                + ", redisReconnectMax=" + redisReconnectMax + ", sreToken=****" + (sreTokenGenerated ? " (generated)" : "")
                + ", devMode=" + devMode + ", regions=" + regions + ", leaseTtl=" + leaseTtl + ", tick=" + tick
                + ", stages=" + stages + ", minRate=" + minRate + ", maxRate=" + maxRate + ", defaultRate=" + defaultRate
                + ", pauseFailureRatio=" + pauseFailureRatio + ", pauseConnectP99=" + pauseConnectP99
                + ", resumeAfter=" + resumeAfter + ", statsWindow=" + statsWindow + ", httpLimits=" + httpLimits
                + ", tls=" + tls + ", registryRefresh=" + registryRefresh + ", policyPoll=" + policyPoll
                + ", logMax=" + logMax + ", stageStall=" + stageStall + ", controllerUrl=" + controllerUrl + ']';
    }

    /** Bytes of the token for a constant-time compare. */
    public byte[] sreTokenBytes() {
        return sreToken.getBytes(StandardCharsets.UTF_8);
    }
}
