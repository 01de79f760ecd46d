package io.tern.ops.cli.throttle;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.ops.cli.admin.AdminClient;
import io.tern.ops.cli.admin.AdminCommand;
import io.tern.ops.cli.admin.UsageException;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * {@code ternctl throttle status|set --rate N|release}: the SRE's side of the rate controller's admin API.
 * {@code set} pins the global permit (the controller stops deciding until {@code release}); exit status as
 * {@link AdminCommand}.
 */
public final class ThrottleCommand extends AdminCommand {
    /** The directive and the load as the controller serves them; PUT pins the permit, DELETE releases the pin. */
    static final String PATH = "/v1/throttle";

    public ThrottleCommand(PrintStream out, PrintStream err, Map<String, String> env) {
        super(out, err, env, "the rate controller", "--controller or " + ThrottleArgs.CONTROLLER_ENV);
    }

    public static ThrottleCommand onConsole() {
        return new ThrottleCommand(System.out, System.err, System.getenv());
    }

    @Override
    protected int execute(List<String> args) throws Exception {
        ThrottleArgs a;
        try {
            a = ThrottleArgs.parse(args, env);
        } catch (UsageException e) {
            return usageError(e);
        }
        AdminClient client = new AdminClient(a.controller(), a.token());
        return call(a.json(), a.controller(), () -> switch (a.action()) {
            case STATUS -> render(a.json(), client.get(PATH), ThrottleView::status);
            case SET -> render(a.json(), client.put(PATH, body(a)), json -> ThrottleView.changed(a, json));
            case RELEASE -> render(a.json(), client.delete(PATH), json -> ThrottleView.changed(a, json));
        });
    }

    private static ObjectNode body(ThrottleArgs a) {
        ObjectNode b = AdminClient.JSON.createObjectNode();
        if (a.ratePerSecond() != null) {
            b.put("ratePerSecond", a.ratePerSecond());
        }
        if (a.reason() != null) {
            b.put("reason", a.reason());
        }
        return b;
    }

    @Override
    public String usage() {
        return """
                usage: ternctl throttle <command> [--controller URL] [--token T] [--output text|json]
                  status                              the directive every logic node and bypass consumer obeys:
                                                      OPEN or THROTTLED, the global permit (deliveries/s), who set it
                  set --rate N [--reason TEXT]        pin the global permit at N deliveries/s (the controller stops
                                                      deciding until release)
                  release                             drop the pin: the controller decides from the load again
                The rate controller's admin API is --controller or $TERN_CONTROLLER_URL (default http://127.0.0.1:8084;
                any instance answers); the SRE token --token or $TERN_SRE_TOKEN. --output json prints the API's JSON.
                Exit status: 0 done, 1 the controller refused (its message is printed) or is unreachable,
                2 a wrong command line.""";
    }
}
