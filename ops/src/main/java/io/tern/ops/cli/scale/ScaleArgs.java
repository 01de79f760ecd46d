package io.tern.ops.cli.scale;

import io.tern.ops.cli.admin.Flags;
import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.admin.Verb;
import io.tern.ops.cli.throttle.ThrottleArgs;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One parsed {@code ternctl scale ...} command line, a pure function of the arguments and the environment.
 *
 * @param at         {@code schedule --at}: when the floor starts (ISO-8601 instant, e.g. 2026-12-24T18:00:00Z)
 * @param replicas   {@code schedule --replicas}: the bypass consumers kept at least running meanwhile
 * @param length     {@code schedule --for}: how long the floor holds (e.g. 30m)
 * @param reason     recorded with the floor; null = none given
 * @param controller the rate controller's admin API (it runs the scaler), as for {@code ternctl throttle}
 */
public record ScaleArgs(Action action, Instant at, Integer replicas, Duration length, String reason, URI controller,
                        String token, boolean json) {
    /** Far more than any partition count: a typo is refused before sending. */
    public static final int MAX_REPLICAS = 10_000;

    public enum Action implements Verb {
        STATUS("status", Set.of("--controller")),
        SCHEDULE("schedule", Set.of("--controller", "--at", "--replicas", "--for", "--reason"));

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

    /** @param args what follows {@code ternctl scale} */
    public static ScaleArgs parse(List<String> args, Map<String, String> env) throws UsageException {
        Action action = Verb.first("scale", Action.values(), args);
        Flags f = Flags.parse("scale " + action.word, args.subList(1, args.size()), action.flags);
        if (!f.positionals().isEmpty()) {
            throw new UsageException("scale " + action.word + " takes no arguments, got " + f.positionals());
        }
        Instant at = null;
        Integer replicas = null;
        Duration length = null;
        if (action == Action.SCHEDULE) {
            at = instant(f.require("--at"));
            replicas = (int) Flags.number("--replicas", f.require("--replicas"), 1, MAX_REPLICAS);
            length = Flags.duration("--for", f.require("--for"));
        }
        return new ScaleArgs(action, at, replicas, length, f.get("--reason"),
                f.url("--controller", env, ThrottleArgs.CONTROLLER_ENV, ThrottleArgs.DEFAULT_CONTROLLER), f.token(env),
                f.json());
    }

    private static Instant instant(String value) throws UsageException {
        try {
            return Instant.parse(value.trim());
        } catch (DateTimeParseException e) {
            throw new UsageException("--at must be an ISO-8601 instant such as 2026-12-24T18:00:00Z, got '" + value + "'");
        }
    }
}
