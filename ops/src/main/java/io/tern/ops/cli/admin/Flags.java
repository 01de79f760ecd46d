package io.tern.ops.cli.admin;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The flags and positionals of one admin command line ({@code --flag value} or {@code --flag=value}), checked
 * against the flags the command takes, with the value parsers every admin command shares. Pure: every usage
 * error is found before anything is sent.
 */
public final class Flags {
    public static final String TOKEN_ENV = "TERN_SRE_TOKEN";
    /** Flags every admin command takes besides its own. */
    private static final Set<String> COMMON = Set.of("--token", "--output");

    private final String command;
    private final Map<String, String> values;
    private final List<String> positionals;

    private Flags(String command, Map<String, String> values, List<String> positionals) {
        this.command = command;
        this.values = values;
        this.positionals = positionals;
    }

    /**
     * @param command  e.g. {@code throttle set}, for messages
     * @param args     what follows the command's words
     * @param allowed  the command's own flags (the API URL flag among them); {@code --token}, {@code --output} always
     */
    public static Flags parse(String command, List<String> args, Set<String> allowed) throws UsageException {
        Map<String, String> values = new HashMap<>();
        List<String> positionals = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                positionals.add(a);
                continue;
            }
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            if (!COMMON.contains(name) && !allowed.contains(name)) {
                throw new UsageException(command + " takes no " + name);
            }
            String value;
            if (eq >= 0) {
                value = a.substring(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new UsageException(name + " needs a value");
            }
            if (values.put(name, value) != null) {
                throw new UsageException(name + " given twice");
            }
        }
        return new Flags(command, values, positionals);
    }

    public List<String> positionals() {
        return positionals;
    }

    public boolean has(String flag) {
        return values.containsKey(flag);
    }

    public String get(String flag) {
        return values.get(flag);
    }

    public String require(String flag) throws UsageException {
        String v = values.get(flag);
        if (v == null || v.isBlank()) {
            throw new UsageException(command + " needs " + flag);
        }
        return v;
    }

    /** {@code --output json}: print the API's JSON instead of text. */
    public boolean json() throws UsageException {
        String output = values.getOrDefault("--output", "text");
        if (!output.equals("text") && !output.equals("json")) {
            throw new UsageException("--output must be text or json, got '" + output + "'");
        }
        return output.equals("json");
    }

    /** The SRE token: {@code --token}, else {@value #TOKEN_ENV}. */
    public String token(Map<String, String> env) throws UsageException {
        String token = first(values.get("--token"), env.get(TOKEN_ENV));
        if (token == null) {
            throw new UsageException("no SRE token: pass --token <token> or set " + TOKEN_ENV);
        }
        return token;
    }

    /** The admin API's base URL: {@code flag}, else {@code envName}, else {@code fallback}. */
    public URI url(String flag, Map<String, String> env, String envName, String fallback) throws UsageException {
        String value = first(values.get(flag), env.get(envName), fallback);
        URI uri;
        try {
            uri = URI.create(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
        } catch (IllegalArgumentException e) {
            throw new UsageException(flag + " is not a URL: '" + value + "'");
        }
        if (uri.getHost() == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
            throw new UsageException(flag + " must be an http(s) URL such as " + fallback + ", got '" + value + "'");
        }
        return uri;
    }

    /** A whole number in [min, max]. */
    public static long number(String flag, String value, long min, long max) throws UsageException {
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be a whole number, got '" + value + "'");
        }
        if (n < min || n > max) {
            throw new UsageException(flag + " must be in [" + min + ", " + max + "], got " + n);
        }
        return n;
    }

    /** A positive duration such as 90s, 30m or PT1H. */
    public static Duration duration(String flag, String value) throws UsageException {
        Duration d;
        try {
            d = Settings.of(Map.of("d", value)).duration("d", null);
        } catch (ConfigException e) {
            throw new UsageException(flag + " must be a duration such as 90s or 30m, got '" + value + "'");
        }
        if (d == null || d.isNegative() || d.isZero()) {
            throw new UsageException(flag + " must be positive, got '" + value + "'");
        }
        return d;
    }

    private static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }
}
