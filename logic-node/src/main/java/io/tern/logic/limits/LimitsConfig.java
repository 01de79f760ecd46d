package io.tern.logic.limits;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.util.Map;
import java.util.TreeMap;

/**
 * Per-app limits, keys {@code logic.limits.*}: {@code default-rate}, {@code default-daily-quota}, and
 * overrides {@code logic.limits.apps.<appId>.rate} / {@code logic.limits.apps.<appId>.daily-quota}.
 *
 * @param defaultRate       API requests per second per app, across all logic nodes
 * @param defaultDailyQuota pushes (targeted devices) per app per UTC day
 * @param apps              overrides by appId
 */
public record LimitsConfig(int defaultRate, long defaultDailyQuota, Map<String, AppLimit> apps) {

    public static final int DEFAULT_RATE = 1000;
    public static final long DEFAULT_DAILY_QUOTA = 10_000_000L;

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
        apps = Map.copyOf(apps);
    }

    public static LimitsConfig defaults() {
        return new LimitsConfig(DEFAULT_RATE, DEFAULT_DAILY_QUOTA, Map.of());
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
        return new LimitsConfig(rate, quota, apps);
    }

    private static java.util.Set<String> union(Map<String, ?> a, Map<String, ?> b) {
        java.util.Set<String> all = new java.util.TreeSet<>(a.keySet());
        all.addAll(b.keySet());
        return all;
    }
}
