package io.tern.ops.cli.region;

import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.admin.Verb;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One parsed {@code ternctl region ...} command line. A pure function of the arguments and the
 * environment, so every usage error is found before anything is sent.
 *
 * @param region        the region the command acts on (failover, failback, watch); null otherwise
 * @param to            failover target
 * @param ratePerSecond redirects per second; null = the scheduler's default
 * @param reason        recorded in the audit log; null = none given
 * @param ifMatch       policy version the change must apply to ({@code If-Match}); null = any
 * @param scheduler     the global scheduler's admin API ({@code --scheduler}, {@code TERN_SCHEDULER_URL},
 *                      default {@value #DEFAULT_SCHEDULER})
 * @param token         the SRE token ({@code --token}, {@code TERN_SRE_TOKEN})
 * @param json          {@code --output json}: print the API's JSON instead of text
 * @param timeout       watch gives up after this ({@code --timeout}, default 30m)
 * @param limit         history entries ({@code --limit}, default {@value #DEFAULT_LIMIT})
 */
public record RegionArgs(Action action, String region, String to, Integer ratePerSecond, String reason, Long ifMatch,
                         URI scheduler, String token, boolean json, Duration timeout, int limit) {

    public static final String DEFAULT_SCHEDULER = "http://127.0.0.1:8082";
    public static final String SCHEDULER_ENV = "TERN_SCHEDULER_URL";
    public static final String TOKEN_ENV = "TERN_SRE_TOKEN";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(30);
    public static final int DEFAULT_LIMIT = 20;
    public static final int MAX_LIMIT = 1000;
    /** Region names end up in URL paths: refuse anything that would need escaping. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Set<String> COMMON = Set.of("--scheduler", "--token", "--output");

    public enum Action implements Verb {
        LIST("list", 0, Set.of()),
        FAILOVER("failover", 1, Set.of("--to", "--rate", "--reason", "--if-match")),
        FAILBACK("failback", 1, Set.of("--rate", "--reason", "--if-match")),
        WATCH("watch", 1, Set.of("--timeout")),
        HISTORY("history", 0, Set.of("--limit"));

        final String word;
        final int positionals;
        final Set<String> flags;

        Action(String word, int positionals, Set<String> flags) {
            this.word = word;
            this.positionals = positionals;
            this.flags = flags;
        }

        @Override
        public String word() {
            return word;
        }
    }

    /**
     * @param args what follows {@code ternctl region}
     * @param env  the environment ({@value #SCHEDULER_ENV}, {@value #TOKEN_ENV})
     */
    public static RegionArgs parse(List<String> args, Map<String, String> env) throws UsageException {
        Action action = Verb.first("region", Action.values(), args);
        Map<String, String> flags = new HashMap<>();
        List<String> positionals = new ArrayList<>();
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                positionals.add(a);
                continue;
            }
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            if (!COMMON.contains(name) && !action.flags.contains(name)) {
                throw new UsageException("region " + action.word + " takes no " + name);
            }
            String value;
            if (eq >= 0) {
                value = a.substring(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new UsageException(name + " needs a value");
            }
            if (flags.put(name, value) != null) {
                throw new UsageException(name + " given twice");
            }
        }
        if (positionals.size() != action.positionals) {
            throw new UsageException(action.positionals == 0
                    ? "region " + action.word + " takes no arguments, got " + positionals
                    : "region " + action.word + " needs exactly one region, got " + positionals);
        }
        String region = action.positionals == 1 ? name("region", positionals.get(0)) : null;
        String to = flags.containsKey("--to") ? name("--to", flags.get("--to")) : null;
        if (action == Action.FAILOVER && to == null) {
            throw new UsageException("region failover needs --to <region>");
        }
        String output = flags.getOrDefault("--output", "text");
        if (!output.equals("text") && !output.equals("json")) {
            throw new UsageException("--output must be text or json, got '" + output + "'");
        }
        String token = first(flags.get("--token"), env.get(TOKEN_ENV));
        if (token == null) {
            throw new UsageException("no SRE token: pass --token <token> or set " + TOKEN_ENV);
        }
        return new RegionArgs(action, region, to,
                flags.containsKey("--rate") ? (int) number("--rate", flags.get("--rate"), Integer.MIN_VALUE, Integer.MAX_VALUE) : null,
                flags.get("--reason"),
                flags.containsKey("--if-match") ? number("--if-match", flags.get("--if-match"), 0, Long.MAX_VALUE) : null,
                scheduler(first(flags.get("--scheduler"), env.get(SCHEDULER_ENV), DEFAULT_SCHEDULER)),
                token,
                output.equals("json"),
                flags.containsKey("--timeout") ? timeout(flags.get("--timeout")) : DEFAULT_TIMEOUT,
                flags.containsKey("--limit") ? (int) number("--limit", flags.get("--limit"), 1, MAX_LIMIT) : DEFAULT_LIMIT);
    }

    private static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }

    private static String name(String what, String value) throws UsageException {
        if (!NAME.matcher(value).matches()) {
            throw new UsageException(what + " must match " + NAME.pattern() + ", got '" + value + "'");
        }
        return value;
    }

    private static long number(String flag, String value, long min, long max) throws UsageException {
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

    private static Duration timeout(String value) throws UsageException {
        Duration d;
        try {
            d = Settings.of(Map.of("timeout", value)).duration("timeout", null);
        } catch (ConfigException e) {
            throw new UsageException("--timeout must be a duration such as 90s or 10m, got '" + value + "'");
        }
        if (d == null || d.isNegative() || d.isZero()) {
            throw new UsageException("--timeout must be positive, got '" + value + "'");
        }
        return d;
    }

    private static URI scheduler(String value) throws UsageException {
        URI uri;
        try {
            uri = URI.create(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--scheduler is not a URL: '" + value + "'");
        }
        if (uri.getHost() == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
            throw new UsageException("--scheduler must be an http(s) URL such as " + DEFAULT_SCHEDULER + ", got '" + value + "'");
        }
        return uri;
    }
}
