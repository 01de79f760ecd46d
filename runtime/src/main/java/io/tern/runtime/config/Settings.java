package io.tern.runtime.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Raw configuration values for one process, layered: a properties file, then environment
 * variables, then explicit overrides (dev runner, tests). Keys look like {@code broker.tcp-port};
 * the matching environment variable is {@code TERN_BROKER_TCP_PORT}. Each role's typed config
 * record reads its keys from here and validates them; defaults live in those records.
 */
public final class Settings {
    private static final Logger log = LoggerFactory.getLogger(Settings.class);
    private static final String ENV_PREFIX = "TERN_";

    private final Map<String, String> values;
    private final Set<String> read = ConcurrentHashMap.newKeySet();

    private Settings(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    public static Settings empty() {
        return new Settings(Map.of());
    }

    public static Settings of(Map<String, String> values) {
        return new Settings(values);
    }

    /**
     * File (if given, else {@code $TERN_CONFIG} if set), then environment, then {@code overrides}.
     */
    public static Settings load(Path file, Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> merged = new TreeMap<>();
        Path path = file != null ? file : (env.containsKey("TERN_CONFIG") ? Path.of(env.get("TERN_CONFIG")) : null);
        if (path != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(path)) {
                p.load(r);
            } catch (IOException e) {
                throw new ConfigException("cannot read config file " + path + ": " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> merged.put(k.trim(), p.getProperty(k).trim()));
        }
        env.forEach((k, v) -> {
            if (k.startsWith(ENV_PREFIX) && !k.equals("TERN_CONFIG")) {
                merged.put(envToKey(k), v);
            }
        });
        merged.putAll(overrides);
        return new Settings(merged);
    }

    /** {@code TERN_BROKER_TCP_PORT} → {@code broker.tcp-port}: first underscore is the section dot. */
    static String envToKey(String env) {
        String rest = env.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT);
        int firstUnderscore = rest.indexOf('_');
        if (firstUnderscore < 0) {
            return rest;
        }
        return rest.substring(0, firstUnderscore) + '.' + rest.substring(firstUnderscore + 1).replace('_', '-');
    }

    public static String keyToEnv(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** A copy with {@code more} layered on top. */
    public Settings with(Map<String, String> more) {
        Map<String, String> merged = new TreeMap<>(values);
        merged.putAll(more);
        return new Settings(merged);
    }

    public String string(String key, String def) {
        read.add(key);
        String v = values.get(key);
        // A nested key (broker.tls.enabled) arrives from the environment (TERN_BROKER_TLS_ENABLED) as
        // broker.tls-enabled; the environment wins over the file, as for every other key.
        String fromEnv = envToKey(keyToEnv(key));
        if (!fromEnv.equals(key)) {
            read.add(fromEnv);
            String e = values.get(fromEnv);
            if (e != null && !e.isEmpty()) {
                v = e;
            }
        }
        return v == null || v.isEmpty() ? def : v;
    }

    public int integer(String key, int def) {
        String v = string(key, null);
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ConfigException(key + " must be an integer, got '" + v + "'");
        }
    }

    public long longValue(String key, long def) {
        String v = string(key, null);
        if (v == null) {
            return def;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new ConfigException(key + " must be an integer, got '" + v + "'");
        }
    }

    public boolean bool(String key, boolean def) {
        String v = string(key, null);
        if (v == null) {
            return def;
        }
        if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
            throw new ConfigException(key + " must be true or false, got '" + v + "'");
        }
        return Boolean.parseBoolean(v);
    }

    /** Durations as {@code 250ms}, {@code 10s}, {@code 5m}, {@code 24h}, {@code 7d}. */
    public Duration duration(String key, Duration def) {
        String v = string(key, null);
        return v == null ? def : parseDuration(key, v);
    }

    public List<String> list(String key, List<String> def) {
        String v = string(key, null);
        if (v == null) {
            return def;
        }
        return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** Keys under {@code prefix} with the prefix stripped, e.g. per-app entries. */
    public Map<String, String> subtree(String prefix) {
        String p = prefix.endsWith(".") ? prefix : prefix + ".";
        Map<String, String> out = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(p)) {
                read.add(k);
                out.put(k.substring(p.length()), v);
            }
        });
        return out;
    }

    /** Keys under {@code prefix} no config record has read so far: usually a typo (the chart's test checks none are left). */
    public List<String> unread(String prefix) {
        return values.keySet().stream().filter(k -> k.startsWith(prefix) && !read.contains(k)).toList();
    }

    /** Warns about keys under {@code prefix} no config record read: usually a typo. */
    public void warnUnread(String prefix) {
        unread(prefix).forEach(k -> log.warn("unknown config key {} (env {}) ignored", k, keyToEnv(k)));
    }

    /** A duration as in config ({@code 250ms}, {@code 10s}, {@code 5m}, {@code 24h}, {@code 7d}); APIs take the same form. */
    public static Duration parseDuration(String key, String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            }
            long n = Long.parseLong(s.substring(0, s.length() - 1));
            return switch (s.charAt(s.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> throw new NumberFormatException();
            };
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new ConfigException(key + " must be a duration like 250ms, 10s, 5m, 24h, got '" + v + "'");
        }
    }

    /**
     * Renders effective values for the start-up log, secrets redacted: fields named like a secret, password or key,
     * and the user info of URIs ({@code redis://:pw@host} becomes {@code redis://****@host}).
     */
    public static String describe(Object configRecord) {
        String s = redactUris(String.valueOf(configRecord));
        return s.replaceAll("(?i)((?:secret|password|key)[A-Za-z]*=)[^,\\])]*", "$1****");
    }

    /** {@code text} with the user info of every URI in it (user, password) replaced by {@code ****}. */
    public static String redactUris(String text) {
        return text.replaceAll("([A-Za-z][A-Za-z0-9+.-]*://)[^/@\\s,\\])}]*@", "$1****@");
    }

    @Override
    public String toString() {
        return values.keySet().stream().collect(Collectors.joining(",", "Settings[", "]"));
    }
}
