package io.tern.ops.cli;

import io.tern.ops.cli.region.RegionCommand;
import io.tern.ops.cli.scale.ScaleCommand;
import io.tern.ops.cli.throttle.ThrottleCommand;

import java.util.List;

/**
 * {@code ternctl <command>}: the SRE command line, a client of the roles' admin APIs. It carries no role and
 * no devstack: the ternctl script runs {@code local} (the local module) and {@code run <role>} itself.
 */
public final class Ternctl {
    private Ternctl() {
    }

    public static void main(String[] args) {
        String command = args.length > 0 ? args[0] : "help";
        switch (command) {
            case "region" -> System.exit(RegionCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "throttle" -> System.exit(ThrottleCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "scale" -> System.exit(ScaleCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "help", "-h", "--help" -> usage(0);
            default -> {
                System.err.println("unknown command: " + command);
                usage(2);
            }
        }
    }

    private static void usage(int status) {
        System.out.println("""
                usage: ternctl <command>
                  local [config.properties]   start every role, Redis and Kafka on this machine (Ctrl-C stops)
                  run broker|dispatcher|logic-node|global-scheduler|rate-controller|bypass-consumer|disk-kv-backup
                                              [--config file]
                                              run that one role in the foreground from its artefact (bin/tern-<role>)
                                              against an existing Redis and Kafka (SIGTERM or Ctrl-C stops it in order)
                  region list|failover|failback|watch|history ...
                                              the global scheduler's regions: move a region's devices elsewhere
                                              and back, follow a move (ternctl region --help)
                  throttle status|set --rate N|release
                                              the rate controller's directive: see it, pin the global permit,
                                              release the pin (ternctl throttle --help)
                  scale status|schedule --at T --replicas N --for 30m
                                              the bypass consumers' autoscaler: see it, schedule a floor ahead
                                              of a known peak (ternctl scale --help)
                Settings come from the optional properties file and TERN_* environment variables,
                e.g. TERN_LOGIC_PORT=8080, TERN_LOCAL_REDIS_PORT=6390.""");
        System.exit(status);
    }
}
