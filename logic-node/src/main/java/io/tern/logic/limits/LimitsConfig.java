package io.tern.logic.limits;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-app limits, keys {@code logic.limits.*}: {@code default-rate}, {@code default-daily-quota}, and
 * overrides {@code logic.limits.apps.<appId>.rate} / {@code logic.limits.apps.<appId>.daily-quota}; how
 * a node leases from the shared limits: {@code rate-lease-percent}, {@code quota-lease-max},
 * {@code lease-ttl}, {@code deny-hold}, {@code max-waiting}.
 *
 * @param defaultRate       API requests per second per app, across all logic nodes
 * @param defaultDailyQuota pushes (targeted devices) per app per UTC day
 * @param apps              overrides by appId
 * @param rateLeasePercent  share of an app's rate a node takes from the shared limiter at once (at least one
 *                          request); across N nodes an app may pass its rate by up to N such blocks per second
 * @param quotaLeaseMax     most pushes a node takes from the day's quota at once (never more than 1/16 of
 *                          what is left, never less than the request needs)
 * @param leaseTtl          unspent leased requests are dropped, unspent leased pushes given back, after this
 * @param denyHold          after the shared limiter refused, the node answers 429 locally for this long
 * @param maxWaiting        requests of one app waiting on a node for a lease; beyond it 429 {@code rate_limited}
 */
public record LimitsConfig(int defaultRate, long defaultDailyQuota, Map<String, AppLimit> apps,
                           int rateLeasePercent, long quotaLeaseMax, Duration leaseTtl, Duration denyHold,
                           int maxWaiting) {

    public static final int DEFAULT_RATE = 1000;
    public static final long DEFAULT_DAILY_QUOTA = 10_000_000L;
    public static final int DEFAULT_RATE_LEASE_PERCENT = 5;
    public static final long DEFAULT_QUOTA_LEASE_MAX = 1000;
    public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_DENY_HOLD = Duration.ofMillis(50);
    public static final int DEFAULT_MAX_WAITING = 10_000;

    /** The effective limits of one app. */
    public record AppLimit(int rate, long dailyQuota) {
        public AppLimit {
            ConfigException.require(rate >= 1 && rate <= 1_000_000, "rate must be in [1, 1000000], got " + rate);
            ConfigException.require(dailyQuota >= 1, "daily-quota must be >= 1, got " + dailyQuota);
        }
    }

    public LimitsConfig {
        ConfigException.require(defaultRate >= 1 && defaultRate <= 1_000_000, "logic.limits.default-rate must be in [1, 1000000]");
        ConfigException.require(defaultDailyQuota >= 1, "logic.limits.default-daily-quota must be >= 1");
        ConfigException.require(rateLeasePercent >= 1 && rateLeasePercent <= 100, "logic.limits.rate-lease-percent must be in [1, 100]");
        ConfigException.require(quotaLeaseMax >= 1, "logic.limits.quota-lease-max must be >= 1");
        ConfigException.require(leaseTtl.toMillis() >= 1 && leaseTtl.compareTo(Duration.ofSeconds(60)) <= 0,
                "logic.limits.lease-ttl must be in [1ms, 60s]");
        ConfigException.require(!denyHold.isNegative() && denyHold.compareTo(Duration.ofSeconds(1)) <= 0,
                "logic.limits.deny-hold must be in [0, 1s]");
        ConfigException.require(maxWaiting >= 1, "logic.limits.max-waiting must be >= 1");
        apps = Map.copyOf(apps);
    }

    /** The given per-app limits with the default lease settings. */
    public LimitsConfig(int defaultRate, long defaultDailyQuota, Map<String, AppLimit> apps) {
        this(defaultRate, defaultDailyQuota, apps, DEFAULT_RATE_LEASE_PERCENT, DEFAULT_QUOTA_LEASE_MAX,
                DEFAULT_LEASE_TTL, DEFAULT_DENY_HOLD, DEFAULT_MAX_WAITING);
    }

    public static LimitsConfig defaults() {
        return new LimitsConfig(DEFAULT_RATE, DEFAULT_DAILY_QUOTA, Map.of());
    }

    /** Requests a node leases at once for an app of this rate. */
    public int rateBlock(int rate) {
        return Math.max(1, (int) ((long) rate * rateLeasePercent / 100));
    }

    public AppLimit forApp(String appId) {
        AppLimit a = apps.get(appId);
        return a != null ? a : new AppLimit(defaultRate, defaultDailyQuota);
    }

    /** Reads {@code logic.limits.*}; the caller's {@code warnUnread("logic.")} reports typos. */
    public static LimitsConfig from(Settings s) {
        int rate = s.integer("logic.limits.default-rate", DEFAULT_RATE);
        long quota = s.longValue("logic.limits.default-daily-quota", DEFAULT_DAILY_QUOTA);
        Map<String, String> raw = s.subtree("logic.limits.apps");
        Map<String, Integer> rates = new TreeMap<>();
        Map<String, Long> quotas = new TreeMap<>();
        raw.forEach((k, v) -> {
            // appIds may contain dots: the setting name is after the last one.
            int dot = k.lastIndexOf('.');
            String app = dot > 0 ? k.substring(0, dot) : "";
            String name = k.substring(dot + 1);
            String key = "logic.limits.apps." + k;
            ConfigException.require(!app.isEmpty(), key + ": want logic.limits.apps.<appId>.rate or .daily-quota");
            try {
                switch (name) {
                    case "rate" -> rates.put(app, Integer.parseInt(v.trim()));
                    case "daily-quota" -> quotas.put(app, Long.parseLong(v.trim()));
                    default -> throw new ConfigException(key + ": unknown limit '" + name + "' (rate, daily-quota)");
                }
            } catch (NumberFormatException e) {
                throw new ConfigException(key + " must be an integer, got '" + v + "'");
            }
        });
        Map<String, AppLimit> apps = new TreeMap<>();
        for (String app : union(rates, quotas)) {
            try {
                apps.put(app, new AppLimit(rates.getOrDefault(app, rate), quotas.getOrDefault(app, quota)));
            } catch (ConfigException e) {
                throw new ConfigException("logic.limits.apps." + app + ": " + e.getMessage());
            }
        }
        return new LimitsConfig(rate, quota, apps,
                s.integer("logic.limits.rate-lease-percent", DEFAULT_RATE_LEASE_PERCENT),
                s.longValue("logic.limits.quota-lease-max", DEFAULT_QUOTA_LEASE_MAX),
                s.duration("logic.limits.lease-ttl", DEFAULT_LEASE_TTL),
                s.duration("logic.limits.deny-hold", DEFAULT_DENY_HOLD),
                s.integer("logic.limits.max-waiting", DEFAULT_MAX_WAITING));
    }

    private static java.util.Set<String> union(Map<String, ?> a, Map<String, ?> b) {
        java.util.Set<String> all = new java.util.TreeSet<>(a.keySet());
        all.addAll(b.keySet());
        return all;
    }
}
