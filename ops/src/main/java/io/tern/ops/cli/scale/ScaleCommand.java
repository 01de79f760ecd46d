package io.tern.ops.cli.scale;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.ops.cli.admin.AdminClient;
import io.tern.ops.cli.admin.AdminCommand;
import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.throttle.ThrottleArgs;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * {@code ternctl scale status|schedule}: the bypass consumers' autoscaler as the SRE sees and steers it; a
 * scheduled floor keeps at least N consumers running over a known peak, whatever the backlog says.
 */
public final class ScaleCommand extends AdminCommand {
    static final String STATUS = "/v1/scale";
    static final String FLOORS = "/v1/scale/floors";

    public ScaleCommand(PrintStream out, PrintStream err, Map<String, String> env) {
        super(out, err, env, "the rate controller", "--controller or " + ThrottleArgs.CONTROLLER_ENV);
    }

    public static ScaleCommand onConsole() {
        return new ScaleCommand(System.out, System.err, System.getenv());
    }

    @Override
    protected int execute(List<String> args) throws Exception {
        ScaleArgs a;
        try {
            a = ScaleArgs.parse(args, env);
        } catch (UsageException e) {
            return usageError(e);
        }
        AdminClient client = new AdminClient(a.controller(), a.token());
        return call(a.json(), a.controller(), () -> switch (a.action()) {
            case STATUS -> render(a.json(), client.get(STATUS), ScaleView::status);
            case SCHEDULE -> render(a.json(), client.post(FLOORS, floor(a), null), ScaleView::scheduled);
        });
    }

    private static ObjectNode floor(ScaleArgs a) {
        ObjectNode b = AdminClient.JSON.createObjectNode();
        b.put("at", a.at().toString());
        b.put("replicas", a.replicas());
        b.put("for", a.length().toSeconds() + "s");
        if (a.reason() != null) {
            b.put("reason", a.reason());
        }
        return b;
    }

    @Override
    public String usage() {
        return """
                usage: ternctl scale <command> [--controller URL] [--token T] [--output text|json]
                  status                              bypass consumers running and wanted, the buffer's lag, the last
                                                      decision, active and upcoming floors
                  schedule --at 2026-12-24T18:00:00Z --replicas N --for 30m [--reason TEXT]
                                                      keep at least N bypass consumers from --at for --for (ahead of
                                                      a known peak; the backlog may still ask for more)
                The rate controller runs the scaler: --controller or $TERN_CONTROLLER_URL (default
                http://127.0.0.1:8084); the SRE token --token or $TERN_SRE_TOKEN. --output json prints the API's JSON.
                Exit status: 0 done, 1 the controller refused (its message is printed) or is unreachable,
                2 a wrong command line.""";
    }
}
