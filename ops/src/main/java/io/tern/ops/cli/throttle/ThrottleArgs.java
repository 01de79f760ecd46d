package io.tern.ops.cli.throttle;

import io.tern.ops.cli.admin.Flags;
import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.admin.Verb;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One parsed {@code ternctl throttle ...} command line, a pure function of the arguments and the environment.
 *
 * @param ratePerSecond {@code set --rate N}: the global permit (deliveries/s) the SRE pins; null otherwise
 * @param reason        {@code set --reason}: recorded with the directive; null = none given
 * @param controller    the rate controller's admin API ({@code --controller}, {@value #CONTROLLER_ENV},
 *                      default {@value #DEFAULT_CONTROLLER}); any instance answers, the leader applies
 * @param token         the SRE token ({@code --token}, {@code TERN_SRE_TOKEN})
 * @param json          {@code --output json}
 */
public record ThrottleArgs(Action action, Long ratePerSecond, String reason, URI controller, String token, boolean json) {
    public static final String DEFAULT_CONTROLLER = "http://127.0.0.1:8084";
    public static final String CONTROLLER_ENV = "TERN_CONTROLLER_URL";
    /** The directive's own bound (store ThrottleDirective.MAX_PERMIT is 10^9): a typo is refused before sending. */
    public static final long MAX_RATE = 1_000_000_000L;

    public enum Action implements Verb {
        STATUS("status", Set.of("--controller")),
        SET("set", Set.of("--controller", "--rate", "--reason")),
        RELEASE("release", Set.of("--controller"));

        final String word;
        final Set<String> flags;

        Action(String word, Set<String> flags) {
            this.word = word;
            this.flags = flags;
        }

        @Override
        public String word() {
            return word;
        }
    }

    /** @param args what follows {@code ternctl throttle} */
    public static ThrottleArgs parse(List<String> args, Map<String, String> env) throws UsageException {
        Action action = Verb.first("throttle", Action.values(), args);
        Flags f = Flags.parse("throttle " + action.word, args.subList(1, args.size()), action.flags);
        if (!f.positionals().isEmpty()) {
            throw new UsageException("throttle " + action.word + " takes no arguments, got " + f.positionals());
        }
        Long rate = action == Action.SET ? Flags.number("--rate", f.require("--rate"), 0, MAX_RATE) : null;
        return new ThrottleArgs(action, rate, f.get("--reason"),
                f.url("--controller", env, CONTROLLER_ENV, DEFAULT_CONTROLLER), f.token(env), f.json());
    }
}
