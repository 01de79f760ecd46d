package io.tern.ops.cli.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.ops.cli.admin.AdminClient;
import io.tern.ops.cli.admin.AdminCommand;
import io.tern.ops.cli.admin.ApiError;
import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.region.RegionArgs;
import io.tern.ops.cli.throttle.ThrottleArgs;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ternctl status}: regions, brokers, connections, deliveries/s, the throttle and the buffer's lag on one screen,
 * from the global scheduler's {@code GET /v1/regions} and the rate controller's {@code GET /v1/throttle} and
 * {@code GET /v1/scale}. A part whose API does not answer is shown as unavailable and the exit status is 1; the rest
 * still shows. {@code --output json} prints {@code {"regions","throttle","scale","errors"}}: the APIs' answers as they
 * came (null for a part that did not) and why a part is missing.
 */
public final class StatusCommand extends AdminCommand {
    public StatusCommand(PrintStream out, PrintStream err, Map<String, String> env) {
        super(out, err, env, "the admin APIs", "--scheduler/--controller");
    }

    public static StatusCommand onConsole() {
        return new StatusCommand(System.out, System.err, System.getenv());
    }

    @Override
    protected boolean needsSubcommand() {
        return false;
    }

    @Override
    protected int execute(List<String> args) throws Exception {
        StatusArgs a;
        try {
            a = StatusArgs.parse(args, env);
        } catch (UsageException e) {
            return usageError(e);
        }
        AdminClient scheduler = new AdminClient(a.scheduler(), a.token());
        AdminClient controller = new AdminClient(a.controller(), a.token());
        Map<String, String> errors = new LinkedHashMap<>();
        JsonNode regions = part("regions", scheduler, "/v1/regions", "the global scheduler",
                "--scheduler or " + RegionArgs.SCHEDULER_ENV, errors);
        JsonNode throttle = part("throttle", controller, "/v1/throttle", "the rate controller",
                "--controller or " + ThrottleArgs.CONTROLLER_ENV, errors);
        JsonNode scale = part("scale", controller, "/v1/scale", "the rate controller",
                "--controller or " + ThrottleArgs.CONTROLLER_ENV, errors);
        if (a.json()) {
            ObjectNode all = AdminClient.JSON.createObjectNode();
            all.set("regions", regions);
            all.set("throttle", throttle);
            all.set("scale", scale);
            ObjectNode why = all.putObject("errors");
            errors.forEach(why::put);
            out.println(all);
        } else {
            out.print(StatusView.render(regions, throttle, scale, errors));
        }
        out.flush();
        return errors.isEmpty() ? OK : API_ERROR;
    }

    /** One API's answer, or null with why in {@code errors}. */
    private static JsonNode part(String name, AdminClient client, String path, String who, String hint,
                                 Map<String, String> errors) throws InterruptedException {
        URI base = client.base();
        try {
            return client.get(path).json();
        } catch (ApiError e) {
            errors.put(name, who + " refused: " + e.getMessage() + " (HTTP " + e.status()
                    + (e.code() == null ? "" : ", " + e.code()) + ")");
        } catch (IOException e) {
            String m = e.getMessage();
            errors.put(name, "cannot reach " + who + " at " + base + ": " + e.getClass().getSimpleName()
                    + (m == null || m.isBlank() ? "" : " " + m) + " (set " + hint + ")");
        }
        return null;
    }

    @Override
    public String usage() {
        return """
                usage: ternctl status [--scheduler URL] [--controller URL] [--token T] [--output text|json]
                  the platform on one screen: per region its state, who serves it, brokers, connections,
                  deliveries/s and capacity (and a move under way); the throttle directive and the load; the burst
                  buffer's lag and the bypass consumers; who leads.
                The global scheduler's admin API is --scheduler or $TERN_SCHEDULER_URL (default http://127.0.0.1:8082),
                the rate controller's --controller or $TERN_CONTROLLER_URL (default http://127.0.0.1:8084); the SRE
                token --token or $TERN_SRE_TOKEN. --output json prints {"regions","throttle","scale","errors"}: each
                API's answer as it came (null when it did not answer) and why a part is missing.
                Exit status: 0 every part answered, 1 a part is unavailable (the rest is printed), 2 a wrong
                command line.""";
    }
}
