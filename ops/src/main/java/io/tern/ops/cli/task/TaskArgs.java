package io.tern.ops.cli.task;

import io.tern.ops.cli.admin.Flags;
import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.admin.Verb;
import io.tern.ops.cli.app.AppArgs;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One parsed {@code ternctl task ...} command line, a pure function of the arguments and the environment.
 *
 * @param taskId  the task, any app's (taskIds are platform-wide)
 * @param timeout {@code watch --timeout}: watching gives up after this (default 10m); the task goes on
 * @param logic   a logic node's admin API, as for {@code ternctl app}
 */
public record TaskArgs(Action action, long taskId, Duration timeout, URI logic, String token, boolean json) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    public enum Action implements Verb {
        SHOW("show", Set.of("--logic")),
        WATCH("watch", Set.of("--logic", "--timeout")),
        RECALL("recall", Set.of("--logic"));

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

    /** @param args what follows {@code ternctl task} */
    public static TaskArgs parse(List<String> args, Map<String, String> env) throws UsageException {
        Action action = Verb.first("task", Action.values(), args);
        String command = "task " + action.word;
        Flags f = Flags.parse(command, args.subList(1, args.size()), action.flags);
        if (f.positionals().size() != 1) {
            throw new UsageException(command + " needs exactly one taskId, got " + f.positionals());
        }
        long taskId = Flags.number("taskId", f.positionals().get(0), 1, Long.MAX_VALUE);
        Duration timeout = f.has("--timeout") ? Flags.duration("--timeout", f.get("--timeout")) : DEFAULT_TIMEOUT;
        return new TaskArgs(action, taskId, timeout, f.url("--logic", env, AppArgs.LOGIC_ENV, AppArgs.DEFAULT_LOGIC),
                f.token(env), f.json());
    }
}
