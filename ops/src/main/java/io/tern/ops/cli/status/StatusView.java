package io.tern.ops.cli.status;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.ops.cli.admin.Table;
import io.tern.ops.cli.scale.ScaleView;
import io.tern.ops.cli.throttle.ThrottleView;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ternctl status} for a person: the platform on one screen from the admin APIs' answers, a pure function of
 * them. A part whose API did not answer is a line saying so; the rest still shows.
 */
public final class StatusView {
    private StatusView() {
    }

    /**
     * @param regions  {@code GET /v1/regions} of the global scheduler, or null
     * @param throttle {@code GET /v1/throttle} of the rate controller, or null
     * @param scale    {@code GET /v1/scale} of the rate controller, or null
     * @param errors   why a part is missing, by part name ({@code regions}, {@code throttle}, {@code scale})
     */
    public static String render(JsonNode regions, JsonNode throttle, JsonNode scale, Map<String, String> errors) {
        String nl = System.lineSeparator();
        StringBuilder b = new StringBuilder();
        b.append(table(regions, throttle));
        if (throttle != null) {
            JsonNode d = throttle.path("directive");
            b.append("throttle   ").append(d.isObject() ? ThrottleView.directive(d) + ", set by " + text(d, "source")
                    : "no directive yet (obeyers use their fallback rate)").append(nl);
            b.append("load       ").append(rate(throttle.path("downstreamPerSecond"))).append(" of capacity ")
                    .append(rate(throttle.path("capacityPerSecond"))).append(" deliveries/s");
            if (throttle.path("utilisation").isNumber()) {
                b.append(String.format(Locale.ROOT, " (%.0f %%)", 100 * throttle.get("utilisation").asDouble()));
            }
            b.append(nl);
        }
        if (scale != null) {
            b.append("buffer     ").append(ScaleView.lag(scale)).append("; bypass consumers ")
                    .append(text(scale, "replicas")).append(" running, target ").append(text(scale, "targetReplicas"))
                    .append(" (").append(text(scale, "mode")).append(')').append(nl);
        }
        if (throttle != null || regions != null) {
            b.append("control    ");
            if (throttle != null) {
                b.append("rate controller leader ").append(text(throttle, "leader"));
                if (throttle.path("heartbeatAgeMillis").isNumber()) {
                    b.append(String.format(Locale.ROOT, " (heartbeat %.1f s ago)", throttle.get("heartbeatAgeMillis").asLong() / 1000.0));
                }
            }
            if (regions != null) {
                b.append(throttle != null ? "; " : "").append("region policy version ").append(text(regions, "version"));
            }
            b.append(nl);
        }
        errors.forEach((part, why) -> b.append(part).append(": UNAVAILABLE: ").append(why).append(nl));
        return b.toString();
    }

    /**
     * Regions as the scheduler lists them (state, who serves them, brokers, connections, a move) joined with the
     * controller's load per region (deliveries/s, capacity), and a total line.
     */
    static String table(JsonNode regions, JsonNode throttle) {
        Map<String, String[]> rows = new LinkedHashMap<>();
        long brokers = 0;
        long connections = 0;
        for (JsonNode r : regions == null ? List.<JsonNode>of() : iterable(regions.path("regions"))) {
            String[] row = row(rows, text(r, "name"));
            row[1] = text(r, "state");
            row[2] = text(r, "servedBy");
            row[3] = count(r.path("brokers"));
            row[4] = count(r.path("connections"));
            row[7] = r.hasNonNull("move") ? text(r.get("move"), "direction") + " to " + text(r.get("move"), "to") : "";
            brokers += r.path("brokers").asLong(0);
            connections += r.path("connections").asLong(0);
        }
        for (JsonNode r : throttle == null ? List.<JsonNode>of() : iterable(throttle.path("regions"))) {
            String[] row = row(rows, text(r, "name"));
            row[5] = rate(r.path("downstreamPerSecond"));
            row[6] = rate(r.path("capacityPerSecond"));
            if (regions == null) {
                row[3] = count(r.path("brokers"));
            }
        }
        if (rows.isEmpty()) {
            return "";
        }
        List<String[]> out = new ArrayList<>();
        out.add(new String[]{"REGION", "STATE", "SERVED BY", "BROKERS", "CONNECTIONS", "DELIVERIES/S", "CAPACITY/S", "MOVE"});
        out.addAll(rows.values());
        out.add(new String[]{"total", "", "", regions == null ? "-" : String.format(Locale.ROOT, "%,d", brokers),
                regions == null ? "-" : String.format(Locale.ROOT, "%,d", connections),
                throttle == null ? "-" : rate(throttle.path("downstreamPerSecond")),
                throttle == null ? "-" : rate(throttle.path("capacityPerSecond")), ""});
        return Table.render(out);
    }

    private static String[] row(Map<String, String[]> rows, String name) {
        return rows.computeIfAbsent(name, n -> new String[]{n, "-", "-", "-", "-", "-", "-", ""});
    }

    private static Iterable<JsonNode> iterable(JsonNode array) {
        return array::elements;
    }

    private static String rate(JsonNode n) {
        return n.isNumber() ? String.format(Locale.ROOT, "%,d", Math.round(n.asDouble())) : "-";
    }

    private static String count(JsonNode n) {
        return n.isNumber() ? String.format(Locale.ROOT, "%,d", n.asLong()) : "-";
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }
}
