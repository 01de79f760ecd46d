package io.tern.ratecontrol.config;

import io.tern.store.redis.RedisStore;
import io.tern.ratecontrol.scale.ScaleConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpLimits;
import io.tern.runtime.tls.TlsConfig;
import io.tern.store.throttle.DirectiveRepository;
import io.tern.store.throttle.ThrottleDirective;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The rate controller's configuration, read from {@link Settings} keys {@code ratecontrol.*}
 * (environment {@code TERN_RATECONTROL_*}). Every default runs on one machine.
 *
 * @param id                instance id (logs, metric tag, the leader lease's holder); default {@value #DEFAULT_ID}
 * @param http              admin API ({@code ratecontrol.host}, {@code ratecontrol.port}); default
 *                          {@value #DEFAULT_HOST}:{@value #DEFAULT_PORT}
 * @param redisUri          Redis holding the directive, the lease and the broker registry; default {@value #DEFAULT_REDIS_URI}
 * @param redisTimeout      per-command timeout; default 2s
 * @param redisReconnectMax longest pause between attempts to reconnect to Redis; default 500ms
 * @param sreToken          bearer token of every admin call ({@code ratecontrol.sre-token}, env
 *                          {@code TERN_RATECONTROL_SRE_TOKEN}), at least {@value #MIN_TOKEN_LENGTH} characters;
 *                          required outside dev mode, generated in dev mode when unset (as the global scheduler's)
 * @param devMode           {@code ratecontrol.dev-mode}, default false
 * @param sreTokenGenerated true when dev mode generated {@code sreToken} (the banner prints it)
 * @param tick              how often the leader reads the brokers' load, decides and heartbeats; default 250ms
 * @param throttleAt        fraction of capacity at which the downstream is throttled ({@code ratecontrol.throttle-at});
 *                          also the OPEN permit's share of capacity; default 0.8
 * @param releaseBelow      fraction of capacity below which a throttle is released; default 0.6 (below throttle-at)
 * @param minDwell          least time between two directive changes the controller makes; default 10s
 * @param permitStep        least relative permit change worth a new version while the state stays; default 0.1
 * @param minPermit         lowest permit (deliveries/s) a throttle sets, so buffered pushes still drain; default 100
 * @param maxPermit         highest permit an SRE may set ({@code ratecontrol.max-permit}); default 10000000
 * @param leaseTtl          the leader lease's TTL, renewed every third of it; default 3s
 * @param heartbeatHold     lifetime of each heartbeat: with no leader ticking, obeyers see "no controller" after
 *                          this ({@code ratecontrol.heartbeat-hold}); default 10s, matching obeyers' permit.hold-last
 * @param regionCaps        optional caps on regions' capacity, deliveries/s ({@code ratecontrol.region-caps}, a comma list
 *                          of {@code region:capacity}, e.g. {@code eu:5000,us:8000}; env {@code TERN_RATECONTROL_REGION_CAPS});
 *                          a region's capacity is the sum of its live brokers' {@code broker.capacity}, at most its cap
 * @param httpLimits        limits of the admin port ({@code ratecontrol.http-*}, see {@link HttpLimits})
 * @param tls               HTTPS of the admin API ({@code ratecontrol.tls.*}); default off
 * @param logMax            directive changes kept in the audit log; default {@value DirectiveRepository#DEFAULT_LOG_MAX}
 * @param scale             autoscaling of the bypass consumers ({@code ratecontrol.scale.*}, see {@link ScaleConfig})
 */
public record RateControllerConfig(String id, HttpEndpoint http, String redisUri, Duration redisTimeout,
                                   Duration redisReconnectMax, String sreToken, boolean devMode,
                                   boolean sreTokenGenerated, Duration tick, double throttleAt, double releaseBelow,
                                   Duration minDwell, double permitStep, long minPermit, long maxPermit,
                                   Duration leaseTtl, Duration heartbeatHold, Map<String, Long> regionCaps,
                                   HttpLimits httpLimits, TlsConfig tls, int logMax, ScaleConfig scale) {

    public static final String DEFAULT_ID = "rc1";
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8084;
    public static final String DEFAULT_REDIS_URI = "redis://127.0.0.1:6390";
    public static final int MIN_TOKEN_LENGTH = 16;
    public static final String REGION_CAPS = "ratecontrol.region-caps";

    /** Ids and region names: safe in logs, metric tags, Redis keys and URLs. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    public RateControllerConfig {
        ConfigException.require(id != null && NAME.matcher(id).matches(),
                "ratecontrol.id must match " + NAME + ", got '" + id + "'");
        ConfigException.require(http != null, "ratecontrol.host/port must be set");
        ConfigException.require(RedisStore.isRedisUri(redisUri),
                "ratecontrol.redis-uri must be a redis://, rediss:// or redis-cluster:// URI, got '" + redisUri + "'");
        requireBetween("ratecontrol.redis-timeout", redisTimeout, Duration.ofMillis(10), Duration.ofMinutes(1));
        requireBetween("ratecontrol.redis-reconnect-max", redisReconnectMax, Duration.ofMillis(10), Duration.ofSeconds(30));
        ConfigException.require(sreToken != null && sreToken.length() >= MIN_TOKEN_LENGTH,
                "ratecontrol.sre-token must be set, at least " + MIN_TOKEN_LENGTH + " characters (TERN_RATECONTROL_SRE_TOKEN), "
                        + "or ratecontrol.dev-mode=true on a dev machine to have one generated");
        requireBetween("ratecontrol.tick", tick, Duration.ofMillis(10), Duration.ofSeconds(10));
        ConfigException.require(throttleAt > 0 && throttleAt <= 1,
                "ratecontrol.throttle-at must be in (0, 1], got " + throttleAt);
        ConfigException.require(releaseBelow > 0 && releaseBelow < throttleAt,
                "ratecontrol.release-below must be in (0, throttle-at), got " + releaseBelow);
        requireBetween("ratecontrol.min-dwell", minDwell, Duration.ZERO, Duration.ofHours(1));
        ConfigException.require(permitStep >= 0 && permitStep < 1,
                "ratecontrol.permit-step must be in [0, 1), got " + permitStep);
        ConfigException.require(maxPermit >= 1 && maxPermit <= ThrottleDirective.MAX_PERMIT,
                "ratecontrol.max-permit must be between 1 and " + ThrottleDirective.MAX_PERMIT + ", got " + maxPermit);
        ConfigException.require(minPermit >= 0 && minPermit <= maxPermit,
                "ratecontrol.min-permit must be between 0 and max-permit, got " + minPermit);
        requireBetween("ratecontrol.lease-ttl", leaseTtl, Duration.ofMillis(300), Duration.ofMinutes(5));
        requireBetween("ratecontrol.heartbeat-hold", heartbeatHold, tick.multipliedBy(2), Duration.ofHours(1));
        ConfigException.require(regionCaps != null, REGION_CAPS + " must be set (empty for none)");
        regionCaps.forEach((region, cap) -> ConfigException.require(NAME.matcher(region).matches()
                        && cap != null && cap >= 0 && cap <= ThrottleDirective.MAX_PERMIT,
                REGION_CAPS + ": region '" + region + "' needs a capacity between 0 and "
                        + ThrottleDirective.MAX_PERMIT + ", got " + cap));
        ConfigException.require(httpLimits != null, "ratecontrol.http-* must be set");
        ConfigException.require(tls != null, "ratecontrol.tls must be set (TlsConfig.OFF for none)");
        ConfigException.require(logMax >= 1 && logMax <= 1_000_000,
                "ratecontrol.log-max must be between 1 and 1000000, got " + logMax);
        ConfigException.require(scale != null, "ratecontrol.scale.* must be set");
        regionCaps = Map.copyOf(regionCaps);
    }

    /** Every default, in dev mode (an SRE token is generated). */
    public static RateControllerConfig defaults() {
        return from(Settings.of(Map.of("ratecontrol.dev-mode", "true")));
    }

    public static RateControllerConfig from(Settings s) {
        boolean devMode = s.bool("ratecontrol.dev-mode", false);
        String token = s.string("ratecontrol.sre-token", null);
        boolean generated = token == null && devMode;
        if (generated) {
            byte[] random = new byte[16];
            new SecureRandom().nextBytes(random);
            token = "dev-" + HexFormat.of().formatHex(random);
        }
        RateControllerConfig c = new RateControllerConfig(
                s.string("ratecontrol.id", DEFAULT_ID),
                new HttpEndpoint(s.string("ratecontrol.host", DEFAULT_HOST), s.integer("ratecontrol.port", DEFAULT_PORT)),
                s.string("ratecontrol.redis-uri", DEFAULT_REDIS_URI),
                s.duration("ratecontrol.redis-timeout", Duration.ofSeconds(2)),
                s.duration("ratecontrol.redis-reconnect-max", Duration.ofMillis(500)),
                token,
                devMode,
                generated,
                s.duration("ratecontrol.tick", Duration.ofMillis(250)),
                number("ratecontrol.throttle-at", s.string("ratecontrol.throttle-at", "0.8")),
                number("ratecontrol.release-below", s.string("ratecontrol.release-below", "0.6")),
                s.duration("ratecontrol.min-dwell", Duration.ofSeconds(10)),
                number("ratecontrol.permit-step", s.string("ratecontrol.permit-step", "0.1")),
                s.longValue("ratecontrol.min-permit", 100),
                s.longValue("ratecontrol.max-permit", 10_000_000),
                s.duration("ratecontrol.lease-ttl", Duration.ofSeconds(3)),
                s.duration("ratecontrol.heartbeat-hold", Duration.ofSeconds(10)),
                caps(s.list(REGION_CAPS, List.of())),
                HttpLimits.from(s, "ratecontrol"),
                TlsConfig.from(s, "ratecontrol", devMode),
                s.integer("ratecontrol.log-max", DirectiveRepository.DEFAULT_LOG_MAX),
                ScaleConfig.from(s));
        s.warnUnread("ratecontrol.");
        return c;
    }

    /** A copy listening on another endpoint (tests use port 0). */
    public RateControllerConfig withHttp(HttpEndpoint endpoint) {
        return new RateControllerConfig(id, endpoint, redisUri, redisTimeout, redisReconnectMax, sreToken, devMode,
                sreTokenGenerated, tick, throttleAt, releaseBelow, minDwell, permitStep, minPermit, maxPermit, leaseTtl,
                heartbeatHold, regionCaps, httpLimits, tls, logMax, scale);
    }

    /** A copy with other scaling settings (tests). */
    public RateControllerConfig withScale(ScaleConfig scaling) {
        return new RateControllerConfig(id, http, redisUri, redisTimeout, redisReconnectMax, sreToken, devMode,
                sreTokenGenerated, tick, throttleAt, releaseBelow, minDwell, permitStep, minPermit, maxPermit, leaseTtl,
                heartbeatHold, regionCaps, httpLimits, tls, logMax, scaling);
    }

    /** Bytes of the token for a constant-time compare. */
    public byte[] sreTokenBytes() {
        return sreToken.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code eu:5000,us:8000}. */
    private static Map<String, Long> caps(List<String> entries) {
        Map<String, Long> out = new TreeMap<>();
        for (String entry : entries) {
            int colon = entry.lastIndexOf(':');
            try {
                if (colon <= 0 || out.put(entry.substring(0, colon).trim(),
                        Long.parseLong(entry.substring(colon + 1).trim())) != null) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new ConfigException(REGION_CAPS + " must list region:capacity once per region (e.g. eu:5000,us:8000),"
                        + " got '" + entry + "'");
            }
        }
        return out;
    }

    private static double number(String key, String v) {
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
        return "RateControllerConfig[id=" + id + ", http=" + http.host() + ':' + http.port()
                + ", redisUri=" + Settings.redactUris(redisUri) + ", redisTimeout=" + redisTimeout
                + ", redisReconnectMax=" + redisReconnectMax + ", sreToken=****" + (sreTokenGenerated ? " (generated)" : "")
                + ", devMode=" + devMode + ", tick=" + tick + ", throttleAt=" + throttleAt
                + ", releaseBelow=" + releaseBelow + ", minDwell=" + minDwell + ", permitStep=" + permitStep
                + ", minPermit=" + minPermit + ", maxPermit=" + maxPermit + ", leaseTtl=" + leaseTtl
                + ", heartbeatHold=" + heartbeatHold + ", regionCaps=" + regionCaps + ", httpLimits=" + httpLimits
                + ", tls=" + tls + ", logMax=" + logMax + ", scale=" + scale + ']';
    }
}
