package io.tern.ops.cli.throttle;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Locale;

/**
 * How the throttle commands print the rate controller's answers for a person: pure functions of the JSON.
 * Fields the answer lacks print as "-", never fail: an older or newer controller still renders.
 */
public final class ThrottleView {
    private ThrottleView() {
    }

    /**
     * {@code GET /v1/throttle}: the directive every obeyer follows (state, global permit, who set it and why,
     * version), the downstream load against capacity (total and per region) and who leads.
     */
    public static String status(JsonNode answer) {
        String nl = System.lineSeparator();
        StringBuilder b = new StringBuilder();
        JsonNode d = answer.path("directive");
        if (d.isObject()) {
            b.append(directive(d)).append(nl);
            b.append("  set by ").append(text(d, "source"));
            if (d.hasNonNull("issuedAt")) {
                b.append(" at ").append(d.get("issuedAt").asText());
            }
            if (d.hasNonNull("reason") && !d.get("reason").asText().isBlank()) {
                b.append(": ").append(d.get("reason").asText());
            }
            b.append(nl);
        } else if (answer.hasNonNull("directiveError")) {
            b.append("stored directive unreadable: ").append(answer.get("directiveError").asText()).append(nl);
        } else {
            b.append("no directive yet (obeyers use their fallback rate)").append(nl);
        }
        b.append("  downstream ").append(rate(answer.path("downstreamPerSecond"))).append(" of capacity ")
                .append(rate(answer.path("capacityPerSecond"))).append(" deliveries/s");
        if (answer.path("utilisation").isNumber()) {
            b.append(String.format(Locale.ROOT, " (%.0f %%)", 100 * answer.get("utilisation").asDouble()));
        }
        b.append(nl);
        for (JsonNode r : answer.path("regions")) {
            b.append("    ").append(text(r, "name")).append(": ").append(rate(r.path("downstreamPerSecond"))).append(" of ")
                    .append(rate(r.path("capacityPerSecond"))).append(" deliveries/s, ").append(text(r, "brokers"))
                    .append(" broker(s)").append(nl);
        }
        b.append("  leader ").append(text(answer, "leader"));
        if (answer.path("heartbeatAgeMillis").isNumber()) {
            b.append(String.format(Locale.ROOT, ", heartbeat %.1f s ago", answer.get("heartbeatAgeMillis").asLong() / 1000.0));
        }
        return b.append(nl).toString();
    }

    /** What set or release answered: the directive it wrote. */
    public static String changed(ThrottleArgs args, JsonNode answer) {
        String what = args.action() == ThrottleArgs.Action.SET
                ? "permit pinned at " + rate(answer.path("permitPerSecond")) + " deliveries/s until released"
                : "pin released: the controller decides from the load again";
        return what + System.lineSeparator() + directive(answer);
    }

    /** "THROTTLED: permit 1,600 deliveries/s (platform-wide), version 7". */
    public static String directive(JsonNode d) {
        return text(d, "state").toUpperCase(Locale.ROOT) + ": permit " + rate(d.path("permitPerSecond"))
                + " deliveries/s (platform-wide), version " + text(d, "version");
    }

    private static String rate(JsonNode n) {
        return n.isNumber() ? String.format(Locale.ROOT, "%,d", Math.round(n.asDouble())) : "-";
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }
}
