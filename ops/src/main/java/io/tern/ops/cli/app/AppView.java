package io.tern.ops.cli.app;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.ops.cli.admin.Table;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the app commands print a logic node's answers for a person: pure functions of the JSON. Fields the answer
 * lacks print as "-", never fail.
 */
public final class AppView {
    private AppView() {
    }

    /** {@code GET /v1/admin/apps}: one app a line. */
    public static String list(JsonNode answer) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"APP", "KEY", "SOURCE", "RATE/S", "DAILY QUOTA", "LIMITS FROM"});
        for (JsonNode app : answer.path("apps")) {
            JsonNode l = app.path("limits");
            rows.add(new String[]{text(app, "appId"), text(app, "appKey"), text(app, "source"), number(l.path("rate")),
                    number(l.path("dailyQuota")), text(l, "source")});
        }
        return Table.render(rows);
    }

    /** {@code GET /v1/admin/apps/{appId}}. */
    public static String app(JsonNode a) {
        String nl = System.lineSeparator();
        StringBuilder b = new StringBuilder();
        b.append("app ").append(text(a, "appId")).append(" (").append(source(text(a, "source"))).append(')').append(nl);
        b.append("  key              ").append(text(a, "appKey")).append(nl);
        if (a.hasNonNull("createdAt")) {
            b.append("  created          ").append(text(a, "createdAt")).append(nl);
            b.append("  secret made      ").append(text(a, "secretRotatedAt")).append(nl);
        }
        JsonNode l = a.path("limits");
        b.append("  limits           ").append(number(l.path("rate"))).append(" requests/s, ")
                .append(number(l.path("dailyQuota"))).append(" pushes/day (").append(text(l, "source")).append(')').append(nl);
        return b.toString();
    }

    /**
     * {@code POST /v1/admin/apps} (201): the app, its key, its secret and its client key, neither of which is shown
     * again.
     */
    public static String created(JsonNode a) {
        String nl = System.lineSeparator();
        return "app " + text(a, "appId") + " created" + nl
                + "  appKey     " + text(a, "appKey") + nl
                + "  appSecret  " + text(a, "appSecret") + "   (the app's servers: /v1/auth, callbacks)" + nl
                + "  clientKey  " + text(a, "clientKey") + "   (built into the app: registers its devices)" + nl
                + "  limits     " + number(a.path("limits").path("rate")) + " requests/s, "
                + number(a.path("limits").path("dailyQuota")) + " pushes/day" + nl
                + "Store the secret and the client key now: they are not shown again (ternctl app rotate-secret "
                + text(a, "appId") + " makes a new secret; the client key never changes)." + nl;
    }

    /** {@code POST /v1/admin/apps/{appId}/rotate-secret}. */
    public static String rotated(JsonNode a) {
        String nl = System.lineSeparator();
        return "secret of " + text(a, "appId") + " rotated at " + text(a, "secretRotatedAt") + nl
                + "  appSecret  " + text(a, "appSecret") + nl
                + "Store it now: it is not shown again. The old secret signs no more /v1/auth requests; auth tokens"
                + " issued before stay valid until they expire. The client key is unchanged." + nl;
    }

    /** {@code GET|PUT /v1/admin/apps/{appId}/limits}. */
    public static String limits(JsonNode l) {
        String nl = System.lineSeparator();
        StringBuilder b = new StringBuilder();
        b.append("limits of ").append(text(l, "appId")).append(" (").append(text(l, "source")).append(')').append(nl);
        b.append("  rate         ").append(number(l.path("rate"))).append(" requests/s across every logic node").append(nl);
        b.append("  daily quota  ").append(number(l.path("dailyQuota"))).append(" pushes per UTC day");
        if (l.path("usedToday").isNumber() && l.path("dailyQuota").isNumber() && l.path("dailyQuota").asLong() > 0) {
            b.append(String.format(Locale.ROOT, ", %,d used today (%.1f %%)", l.get("usedToday").asLong(),
                    100.0 * l.get("usedToday").asLong() / l.get("dailyQuota").asLong()));
        }
        return b.append(nl).toString();
    }

    private static String source(String s) {
        return switch (s) {
            case "config" -> "configured in logic.apps.*";
            case "admin" -> "created through the admin API";
            default -> s;
        };
    }

    private static String number(JsonNode n) {
        return n.isNumber() ? String.format(Locale.ROOT, "%,d", n.asLong()) : "-";
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }
}
