package io.tern.ops.cli.app;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.ops.cli.admin.AdminClient;
import io.tern.ops.cli.admin.AdminCommand;
import io.tern.ops.cli.admin.UsageException;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * {@code ternctl app list|show|create|rotate-secret|limits}: the apps allowed to push, through a logic node's admin
 * API. A new or rotated secret, and a new app's client key, are printed once: the API shows them only in that answer.
 */
public final class AppCommand extends AdminCommand {
    static final String APPS = "/v1/admin/apps";

    public AppCommand(PrintStream out, PrintStream err, Map<String, String> env) {
        super(out, err, env, "the logic node", "--logic or " + AppArgs.LOGIC_ENV);
    }

    public static AppCommand onConsole() {
        return new AppCommand(System.out, System.err, System.getenv());
    }

    @Override
    protected int execute(List<String> args) throws Exception {
        AppArgs a;
        try {
            a = AppArgs.parse(args, env);
        } catch (UsageException e) {
            return usageError(e);
        }
        AdminClient client = new AdminClient(a.logic(), a.token());
        // appIds match [A-Za-z0-9._-]: nothing in a path to escape.
        String app = APPS + "/" + a.appId();
        return call(a.json(), a.logic(), () -> switch (a.action()) {
            case LIST -> render(a.json(), client.get(APPS), AppView::list);
            case SHOW -> render(a.json(), client.get(app), AppView::app);
            case CREATE -> render(a.json(), client.post(APPS, created(a), null), AppView::created);
            case ROTATE_SECRET -> render(a.json(), client.post(app + "/rotate-secret", AdminClient.JSON.createObjectNode(), null),
                    AppView::rotated);
            case LIMITS -> a.changesLimits()
                    ? render(a.json(), client.put(app + "/limits", limits(a)), json -> "limits changed (every logic node "
                    + "applies them within a second)" + System.lineSeparator() + AppView.limits(json))
                    : render(a.json(), client.get(app + "/limits"), AppView::limits);
        });
    }

    private static ObjectNode created(AppArgs a) {
        ObjectNode b = limits(a).put("appId", a.appId());
        if (a.appKey() != null) {
            b.put("appKey", a.appKey());
        }
        return b;
    }

    private static ObjectNode limits(AppArgs a) {
        ObjectNode b = AdminClient.JSON.createObjectNode();
        if (a.rate() != null) {
            b.put("rate", a.rate());
        }
        if (a.dailyQuota() != null) {
            b.put("dailyQuota", a.dailyQuota());
        }
        return b;
    }

    @Override
    public String usage() {
        return """
                usage: ternctl app <command> [--logic URL] [--token T] [--output text|json]
                  list                                the apps: configured (logic.apps.*) and created here, their limits
                  show <appId>                        one app: key, where it comes from, when its secret was made, limits
                  create <appId> [--key K] [--rate N] [--daily-quota N]
                                                      a new app; prints its key, secret and client key ONCE (the key is
                                                      made when --key is not given; the client key goes into the app,
                                                      whose devices register with it within dispatcher.apps-refresh);
                                                      limits default to logic.limits.*
                  rotate-secret <appId>               a new secret, printed ONCE; the old one signs no more /v1/auth
                                                      requests (auth tokens already issued stay valid until they expire);
                                                      the client key stays
                  limits <appId> [--rate N] [--daily-quota N]
                                                      show the app's limits and today's use; with a flag, change them
                                                      (requests/s across every logic node, pushes per UTC day)
                A logic node's admin API is --logic or $TERN_LOGIC_URL (default http://127.0.0.1:8080; any node
                answers, every node applies a change within logic.apps-refresh); the SRE token --token or
                $TERN_SRE_TOKEN (the node's logic.sre-token). --output json prints the API's JSON.
                Exit status: 0 done, 1 the node refused (its message and field are printed) or is unreachable,
                2 a wrong command line.""";
    }
}
