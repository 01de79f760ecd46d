package io.tern.ops.cli;

import io.tern.broker.BrokerMain;
import io.tern.bypass.BypassConsumerMain;
import io.tern.diskkv.DiskKvBackupMain;
import io.tern.dispatcher.DispatcherMain;
import io.tern.logic.LogicNodeMain;
import io.tern.ratecontrol.RateControllerMain;
import io.tern.ops.cli.app.AppCommand;
import io.tern.ops.cli.region.RegionCommand;
import io.tern.ops.cli.scale.ScaleCommand;
import io.tern.ops.cli.status.StatusCommand;
import io.tern.ops.cli.task.TaskCommand;
import io.tern.ops.cli.throttle.ThrottleCommand;
import io.tern.ops.local.LocalPlatform;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.SchedulerMain;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** {@code ternctl <command>}: the SRE command line. Commands grow with the control plane. */
public final class Ternctl {
    private Ternctl() {
    }

    public static void main(String[] args) throws InterruptedException {
        String command = args.length > 0 ? args[0] : "help";
        switch (command) {
            case "local" -> runLocal(args.length > 1 ? Path.of(args[1]) : null);
            case "region" -> System.exit(RegionCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "throttle" -> System.exit(ThrottleCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "scale" -> System.exit(ScaleCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "status" -> System.exit(StatusCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "app" -> System.exit(AppCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "task" -> System.exit(TaskCommand.onConsole().run(List.of(args).subList(1, args.length)));
            case "run" -> runRole(args.length > 1 ? args[1] : "", Arrays.copyOfRange(args, Math.min(2, args.length), args.length));
            case "help", "-h", "--help" -> usage(0);
            default -> {
                System.err.println("unknown command: " + command);
                usage(2);
            }
        }
    }

    private static void runLocal(Path configFile) throws InterruptedException {
        LocalPlatform platform;
        try {
            platform = LocalPlatform.start(Settings.load(configFile, System.getenv(), Map.of()), System.out);
        } catch (ConfigException e) {
            System.err.println("bad configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("stopping Tern ...");
            platform.close();
            stopped.countDown();
        }, "ternctl-shutdown"));
        platform.printBanner(System.out);
        stopped.await();
    }

    /** One role in the foreground, through the role's own main: the same process an SRE deploys. */
    private static void runRole(String role, String[] rest) {
        switch (role) {
            case "broker" -> BrokerMain.main(rest);
            case "dispatcher" -> DispatcherMain.main(rest);
            case "logic-node" -> LogicNodeMain.main(rest);
            case "global-scheduler" -> SchedulerMain.main(rest);
            case "rate-controller" -> RateControllerMain.main(rest);
            case "bypass-consumer" -> BypassConsumerMain.main(rest);
            case "disk-kv-backup" -> DiskKvBackupMain.main(rest);
            default -> {
                System.err.println("unknown role: '" + role
                        + "' (broker, dispatcher, logic-node, global-scheduler, rate-controller, bypass-consumer or disk-kv-backup)");
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
                                              run that one role in the foreground against an existing Redis and
                                              Kafka (SIGTERM or Ctrl-C stops it in order)
                  status                      regions, brokers, connections, deliveries/s, the throttle and the
                                              buffer's lag on one screen (ternctl status --help)
                  region list|failover|failback|watch|history ...
                                              the global scheduler's regions: move a region's devices elsewhere
                                              and back, follow a move (ternctl region --help)
                  throttle status|set --rate N|release
                                              the rate controller's directive: see it, pin the global permit,
                                              release the pin (ternctl throttle --help)
                  scale status|schedule --at T --replicas N --for 30m
                                              the bypass consumers' autoscaler: see it, schedule a floor ahead
                                              of a known peak (ternctl scale --help)
                  app list|show|create|rotate-secret|limits ...
                                              the apps allowed to push: create one, rotate its secret, see and
                                              change its limits (ternctl app --help)
                  task show|watch|recall <taskId>
                                              any app's task: see it, follow its delivery, recall it
                                              (ternctl task --help)
                Every admin command takes --token (or $TERN_SRE_TOKEN) and --output json for scripts.
                Settings come from the optional properties file and TERN_* environment variables,
                e.g. TERN_LOGIC_PORT=8080, TERN_LOCAL_REDIS_PORT=6390.""");
        System.exit(status);
    }
}
