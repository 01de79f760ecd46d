package io.tern.ops.cli.status;

import io.tern.ops.cli.admin.Flags;
import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.region.RegionArgs;
import io.tern.ops.cli.throttle.ThrottleArgs;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One parsed {@code ternctl status} command line, a pure function of the arguments and the environment.
 *
 * @param scheduler  the global scheduler's admin API, as for {@code ternctl region}
 * @param controller the rate controller's admin API, as for {@code ternctl throttle}
 */
public record StatusArgs(URI scheduler, URI controller, String token, boolean json) {

    /** @param args what follows {@code ternctl status} */
    public static StatusArgs parse(List<String> args, Map<String, String> env) throws UsageException {
        Flags f = Flags.parse("status", args, Set.of("--scheduler", "--controller"));
        if (!f.positionals().isEmpty()) {
            throw new UsageException("status takes no arguments, got " + f.positionals());
        }
        return new StatusArgs(
                f.url("--scheduler", env, RegionArgs.SCHEDULER_ENV, RegionArgs.DEFAULT_SCHEDULER),
                f.url("--controller", env, ThrottleArgs.CONTROLLER_ENV, ThrottleArgs.DEFAULT_CONTROLLER),
                f.token(env), f.json());
    }
}
