package io.tern.ops.cli.app;

import io.tern.ops.cli.admin.Flags;
import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.admin.Verb;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One parsed {@code ternctl app ...} command line, a pure function of the arguments and the environment.
 *
 * @param appId      the app acted on; null for {@code list}
 * @param appKey     {@code create --key}: the app's public key; null = the logic node makes one
 * @param rate       {@code --rate}: API requests per second across every logic node; null = unchanged / default
 * @param dailyQuota {@code --daily-quota}: pushes per UTC day; null = unchanged / default
 * @param logic      a logic node's admin API ({@code --logic}, {@value #LOGIC_ENV}, default {@value #DEFAULT_LOGIC});
 *                   any node answers, every node applies the change within {@code logic.apps-refresh}
 */
public record AppArgs(Action action, String appId, String appKey, Integer rate, Long dailyQuota, URI logic,
                      String token, boolean json) {
    public static final String DEFAULT_LOGIC = "http://127.0.0.1:8080";
    public static final String LOGIC_ENV = "TERN_LOGIC_URL";
    /** As the logic node checks them: refused here before anything is sent. */
    static final Pattern APP_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    static final Pattern APP_KEY = Pattern.compile("[A-Za-z0-9._:-]{8,128}");
    static final long MAX_RATE = 1_000_000;
    static final long MAX_DAILY_QUOTA = 1_000_000_000_000L;

    public enum Action implements Verb {
        LIST("list", false, Set.of("--logic")),
        SHOW("show", true, Set.of("--logic")),
        CREATE("create", true, Set.of("--logic", "--key", "--rate", "--daily-quota")),
        ROTATE_SECRET("rotate-secret", true, Set.of("--logic")),
        LIMITS("limits", true, Set.of("--logic", "--rate", "--daily-quota"));

        final String word;
        final boolean takesApp;
        final Set<String> flags;

        Action(String word, boolean takesApp, Set<String> flags) {
            this.word = word;
            this.takesApp = takesApp;
            this.flags = flags;
        }

        @Override
        public String word() {
            return word;
        }
    }

    /** {@code limits} with {@code --rate} or {@code --daily-quota} changes them; without, it shows them. */
    public boolean changesLimits() {
        return action == Action.LIMITS && (rate != null || dailyQuota != null);
    }

    /** @param args what follows {@code ternctl app} */
    public static AppArgs parse(List<String> args, Map<String, String> env) throws UsageException {
        Action action = Verb.first("app", Action.values(), args);
        String command = "app " + action.word;
        Flags f = Flags.parse(command, args.subList(1, args.size()), action.flags);
        List<String> rest = f.positionals();
        String appId = null;
        if (action.takesApp) {
            if (rest.size() != 1) {
                throw new UsageException(command + " needs exactly one appId, got " + rest);
            }
            appId = rest.get(0);
            if (!APP_ID.matcher(appId).matches()) {
                throw new UsageException("appId must be 1-64 characters of A-Z a-z 0-9 . _ -, got '" + appId + "'");
            }
        } else if (!rest.isEmpty()) {
            throw new UsageException(command + " takes no arguments, got " + rest);
        }
        String key = f.get("--key");
        if (key != null && !APP_KEY.matcher(key).matches()) {
            throw new UsageException("--key must be 8-128 characters of A-Z a-z 0-9 . _ : -, got '" + key + "'");
        }
        Integer rate = f.has("--rate") ? (int) Flags.number("--rate", f.get("--rate"), 1, MAX_RATE) : null;
        Long quota = f.has("--daily-quota") ? Flags.number("--daily-quota", f.get("--daily-quota"), 1, MAX_DAILY_QUOTA) : null;
        return new AppArgs(action, appId, key, rate, quota, f.url("--logic", env, LOGIC_ENV, DEFAULT_LOGIC), f.token(env),
                f.json());
    }
}
