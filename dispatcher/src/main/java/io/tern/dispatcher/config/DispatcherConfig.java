package io.tern.dispatcher.config;

import io.tern.store.redis.RedisStore;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.http.HttpLimits;
import io.tern.runtime.config.Settings;
import io.tern.runtime.tls.TlsConfig;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The dispatcher's configuration, read from {@link Settings} keys {@code dispatcher.*}
 * (environment {@code TERN_DISPATCHER_*}). Every default runs on one machine.
 *
 * @param id              instance id, used in logs and the {@code instance} metric tag; default {@value #DEFAULT_ID}
 * @param http            where the HTTP API listens ({@code dispatcher.host}, {@code dispatcher.port});
 *                        default {@value #DEFAULT_HOST}:{@value #DEFAULT_PORT}
 * @param redisUri        Redis holding the broker registry; default {@value #DEFAULT_REDIS_URI}
 * @param redisTimeout    per-command timeout; default 2s
 * @param tokenSecret     HMAC secret for connect tokens, at least 16 bytes, the same as the brokers'
 * @param tokenTtl        how long a connect token is valid; default 1h
 * @param defaultRegion   home region of a device that names none; default {@value #DEFAULT_REGION}
 * @param registryRefresh how often the live broker list is re-read from Redis; default 500ms
 * @param maxHomeBrokers  at most this many home-region brokers per answer; default {@value #DEFAULT_MAX_HOME_BROKERS}
 * @param loadBucket      brokers whose connection counts fall in the same bucket of this size count as equally
 *                        loaded; default {@value #DEFAULT_LOAD_BUCKET}. Counts are seconds old, so strict
 *                        least-loaded-first would send a whole connection storm to one broker.
 * @param devices         device registration and dispatch signatures ({@code dispatcher.device-key},
 *                        {@code dispatcher.client-keys}, {@code dispatcher.sign-clock-skew})
 * @param devMode         {@code dispatcher.dev-mode}, default false: only in dev mode may the development token
 *                        secret and device key be used (anyone can forge tokens and device secrets with them)
 * @param httpLimits      request deadline, keep-alive timeout and connection caps of the HTTP port
 *                        ({@code dispatcher.http-*}, see {@link HttpLimits})
 * @param tls             HTTPS of the API, keys {@code dispatcher.tls.*} (see {@link TlsConfig}); default off
 * @param redisReconnectMax longest pause between attempts to reconnect to Redis; default 500ms
 * @param regionPolicyPoll how often the region policy is re-read besides its pub/sub announcement
 *                        ({@code dispatcher.region-policy-poll}); default 500ms
 * @param redisOutageAfter Redis silent this long is an outage: dispatch goes on from the last broker snapshot and
 *                        region policy, and /health stays 200 showing {@code storage: outage}
 *                        ({@code dispatcher.redis-outage-after}); default 2s
 * @param appsRefresh     how often the apps created through the SRE admin API are re-read for their client keys
 *                        ({@code dispatcher.apps-refresh}, 100ms to 5m); default 1s: a created app's devices register
 *                        here within it
 * @param appsMax         stored apps a read takes in at most ({@code dispatcher.apps-max}); default
 *                        {@value #DEFAULT_APPS_MAX}, as {@code logic.apps-max}: keep it at least that, since with more
 *                        apps stored the read fails and the last one read stands
 */
public record DispatcherConfig(String id, HttpEndpoint http, String redisUri, Duration redisTimeout,
                               String tokenSecret, Duration tokenTtl, String defaultRegion,
                               Duration registryRefresh, int maxHomeBrokers, int loadBucket,
                               DeviceIdentityConfig devices, boolean devMode, HttpLimits httpLimits,
                               TlsConfig tls, Duration redisReconnectMax, Duration regionPolicyPoll,
                               Duration redisOutageAfter, Duration appsRefresh, int appsMax) {

    public static final String DEFAULT_ID = "d1";
    public static final int DEFAULT_LOAD_BUCKET = 500;
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8081;
    public static final String DEFAULT_REDIS_URI = "redis://127.0.0.1:6390";
    public static final Duration DEFAULT_REDIS_TIMEOUT = Duration.ofSeconds(2);
    /** Dev only: production must set its own, shared with the brokers. */
    public static final String DEV_TOKEN_SECRET = "tern-dev-connect-token-secret";
    public static final Duration DEFAULT_TOKEN_TTL = Duration.ofHours(1);
    public static final String DEFAULT_REGION = "local";
    /** With brokers' 3 s liveness TTL, a killed broker leaves answers within about 3.5 s. */
    public static final Duration DEFAULT_REGISTRY_REFRESH = Duration.ofMillis(500);
    public static final Duration DEFAULT_REDIS_RECONNECT_MAX = Duration.ofMillis(500);
    public static final int DEFAULT_MAX_HOME_BROKERS = 3;
    /** With the pub/sub push, a change reaches dispatch at once; the poll bounds a lost message to this. */
    public static final Duration DEFAULT_REGION_POLICY_POLL = Duration.ofMillis(500);
    public static final Duration DEFAULT_REDIS_OUTAGE_AFTER = Duration.ofSeconds(2);
    public static final Duration DEFAULT_APPS_REFRESH = Duration.ofSeconds(1);
    public static final int DEFAULT_APPS_MAX = 10_000;

    /** Ids and region names: safe in logs, metric tags, Redis keys and token claims. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    public DispatcherConfig {
        ConfigException.require(id != null && NAME.matcher(id).matches(),
                "dispatcher.id must match " + NAME + ", got '" + id + "'");
        ConfigException.require(http != null, "dispatcher.host/port must be set");
        ConfigException.require(RedisStore.isRedisUri(redisUri),
                "dispatcher.redis-uri must be a redis://, rediss:// or redis-cluster:// URI, got '" + redisUri + "'");
        ConfigException.require(redisTimeout != null && between(redisTimeout, Duration.ofMillis(10), Duration.ofMinutes(1)),
                "dispatcher.redis-timeout must be between 10ms and 1m, got " + redisTimeout);
        ConfigException.require(tokenSecret != null && tokenSecret.getBytes(StandardCharsets.UTF_8).length >= 16,
                "dispatcher.token-secret must be at least 16 bytes");
        ConfigException.require(tokenTtl != null && between(tokenTtl, Duration.ofSeconds(10), Duration.ofDays(7)),
                "dispatcher.token-ttl must be between 10s and 7d, got " + tokenTtl);
        ConfigException.require(defaultRegion != null && NAME.matcher(defaultRegion).matches(),
                "dispatcher.default-region must match " + NAME + ", got '" + defaultRegion + "'");
        ConfigException.require(registryRefresh != null && between(registryRefresh, Duration.ofMillis(50), Duration.ofMinutes(1)),
                "dispatcher.registry-refresh must be between 50ms and 1m, got " + registryRefresh);
        ConfigException.require(loadBucket >= 1 && loadBucket <= 1_000_000,
                "dispatcher.load-bucket must be between 1 and 1000000, got " + loadBucket);
        ConfigException.require(maxHomeBrokers >= 1 && maxHomeBrokers <= 64,
                "dispatcher.max-home-brokers must be between 1 and 64, got " + maxHomeBrokers);
        ConfigException.require(devices != null, "dispatcher device identity settings must be set");
        ConfigException.require(devMode || !DEV_TOKEN_SECRET.equals(tokenSecret),
                "dispatcher.token-secret is the development secret, which anyone can use to forge connect tokens: "
                        + "set the brokers' secret (TERN_DISPATCHER_TOKEN_SECRET), or dispatcher.dev-mode=true on a dev machine");
        ConfigException.require(devMode || !devices.usesDevDeviceKey(),
                "dispatcher.device-key is the development key, which anyone can use to derive device secrets: "
                        + "set a key of your own (TERN_DISPATCHER_DEVICE_KEY), or dispatcher.dev-mode=true on a dev machine");
        ConfigException.require(httpLimits != null, "dispatcher.http-* must be set");
        ConfigException.require(tls != null, "dispatcher.tls must be set (TlsConfig.OFF for none)");
        ConfigException.require(redisReconnectMax != null
                        && between(redisReconnectMax, Duration.ofMillis(10), Duration.ofSeconds(30)),
                "dispatcher.redis-reconnect-max must be between 10ms and 30s, got " + redisReconnectMax);
        ConfigException.require(regionPolicyPoll != null
                        && between(regionPolicyPoll, Duration.ofMillis(10), Duration.ofMinutes(1)),
                "dispatcher.region-policy-poll must be between 10ms and 1m, got " + regionPolicyPoll);
        ConfigException.require(redisOutageAfter != null
                        && between(redisOutageAfter, Duration.ofMillis(100), Duration.ofMinutes(1)),
                "dispatcher.redis-outage-after must be between 100ms and 1m, got " + redisOutageAfter);
        ConfigException.require(appsRefresh != null && between(appsRefresh, Duration.ofMillis(100), Duration.ofMinutes(5)),
                "dispatcher.apps-refresh must be between 100ms and 5m, got " + appsRefresh);
        ConfigException.require(appsMax >= 1 && appsMax <= 1_000_000,
                "dispatcher.apps-max must be in [1, 1000000], got " + appsMax);
    }

    /** Every default, in dev mode: outside it the default (development) secrets are refused. */
    public static DispatcherConfig defaults() {
        return from(Settings.of(Map.of("dispatcher.dev-mode", "true")));
    }

    public static DispatcherConfig from(Settings s) {
        boolean devMode = s.bool("dispatcher.dev-mode", false);
        DispatcherConfig c = new DispatcherConfig(
                s.string("dispatcher.id", DEFAULT_ID),
                new HttpEndpoint(s.string("dispatcher.host", DEFAULT_HOST), s.integer("dispatcher.port", DEFAULT_PORT)),
                s.string("dispatcher.redis-uri", DEFAULT_REDIS_URI),
                s.duration("dispatcher.redis-timeout", DEFAULT_REDIS_TIMEOUT),
                s.string("dispatcher.token-secret", DEV_TOKEN_SECRET),
                s.duration("dispatcher.token-ttl", DEFAULT_TOKEN_TTL),
                s.string("dispatcher.default-region", DEFAULT_REGION),
                s.duration("dispatcher.registry-refresh", DEFAULT_REGISTRY_REFRESH),
                s.integer("dispatcher.max-home-brokers", DEFAULT_MAX_HOME_BROKERS),
                s.integer("dispatcher.load-bucket", DEFAULT_LOAD_BUCKET),
                DeviceIdentityConfig.from(s),
                devMode,
                HttpLimits.from(s, "dispatcher"),
                TlsConfig.from(s, "dispatcher", devMode),
                s.duration("dispatcher.redis-reconnect-max", DEFAULT_REDIS_RECONNECT_MAX),
                s.duration("dispatcher.region-policy-poll", DEFAULT_REGION_POLICY_POLL),
                s.duration("dispatcher.redis-outage-after", DEFAULT_REDIS_OUTAGE_AFTER),
                s.duration("dispatcher.apps-refresh", DEFAULT_APPS_REFRESH),
                s.integer("dispatcher.apps-max", DEFAULT_APPS_MAX));
        s.warnUnread("dispatcher.");
        return c;
    }

    public boolean usesDevTokenSecret() {
        return DEV_TOKEN_SECRET.equals(tokenSecret);
    }

    /** A copy listening on another endpoint (tests use port 0). */
    public DispatcherConfig withHttp(HttpEndpoint endpoint) {
        return new DispatcherConfig(id, endpoint, redisUri, redisTimeout, tokenSecret, tokenTtl, defaultRegion,
                registryRefresh, maxHomeBrokers, loadBucket, devices, devMode, httpLimits, tls, redisReconnectMax,
                regionPolicyPoll, redisOutageAfter, appsRefresh, appsMax);
    }

    private static boolean between(Duration d, Duration min, Duration max) {
        return d.compareTo(min) >= 0 && d.compareTo(max) <= 0;
    }

    /** Never prints the secret, whatever characters it holds (Settings.describe redacts by pattern). */
    @Override
    public String toString() {
        return "DispatcherConfig[id=" + id + ", http=" + http.host() + ':' + http.port() + ", redisUri=" + redactUri(redisUri)
                + ", redisTimeout=" + redisTimeout + ", tokenSecret=****, tokenTtl=" + tokenTtl
                + ", defaultRegion=" + defaultRegion + ", registryRefresh=" + registryRefresh
                + ", maxHomeBrokers=" + maxHomeBrokers + ", loadBucket=" + loadBucket + ", devices=" + devices
                + ", devMode=" + devMode + ", httpLimits=" + httpLimits + ", tls=" + tls
                + ", redisReconnectMax=" + redisReconnectMax + ", regionPolicyPoll=" + regionPolicyPoll
                + ", redisOutageAfter=" + redisOutageAfter + ", appsRefresh=" + appsRefresh + ", appsMax=" + appsMax + ']';
    }

    /** A Redis URI may carry a password as user info. */
    private static String redactUri(String uri) {
        return uri.replaceFirst("//[^/@]*@", "//****@");
    }
}
