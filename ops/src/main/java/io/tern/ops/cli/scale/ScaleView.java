package io.tern.ops.cli.scale;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.Locale;

/**
 * How the scale commands print the rate controller's scaler answers for a person: pure functions of the JSON.
 * Fields the answer lacks print as "-", never fail.
 */
public final class ScaleView {
    private ScaleView() {
    }

    /** {@code GET /v1/scale}: mode, replicas now and wanted, the buffer's lag, the last decision, the floors. */
    public static String status(JsonNode answer) {
        String nl = System.lineSeparator();
        StringBuilder b = new StringBuilder();
        b.append("bypass consumers: ").append(text(answer, "replicas")).append(" running, target ")
                .append(text(answer, "targetReplicas")).append(" (").append(text(answer, "mode")).append(")").append(nl);
        b.append("  buffer ").append(lag(answer)).append(nl);
        JsonNode d = answer.path("decision");
        if (d.isObject()) {
            b.append("  last decision: ").append(text(d, "target")).append(" replicas (wanted ").append(text(d, "wanted"))
                    .append("): ").append(text(d, "why")).append(nl);
        }
        for (String kind : new String[]{"activeFloors", "upcomingFloors"}) {
            for (JsonNode floor : answer.path(kind)) {
                b.append("  ").append(kind.startsWith("active") ? "active" : "upcoming").append(" floor ")
                        .append(floor(floor)).append(nl);
            }
        }
        if (answer.hasNonNull("error")) {
            b.append("  error: ").append(answer.get("error").asText()).append(nl);
        }
        return b.toString();
    }

    /**
     * The buffer's lag from {@code GET /v1/scale}: "lag 12,345 records over 8 partitions", or, when the controller could
     * not read it, "lag unknown: " and its reason (never a 0 it did not measure).
     */
    public static String lag(JsonNode answer) {
        JsonNode lag = answer.path("lag");
        if (!lag.isNumber()) {
            return "lag unknown: " + text(answer, "lagError");
        }
        return String.format(Locale.ROOT, "lag %,d records over %s partitions", lag.asLong(), text(answer, "partitions"));
    }

    /** What schedule answered (201): the floor as stored. */
    public static String scheduled(JsonNode floor) {
        return "floor scheduled: " + floor(floor);
    }

    /** "8 replicas from 2026-12-24T18:00:00Z until 2026-12-24T18:30:00Z (id f-1): evening news". */
    static String floor(JsonNode f) {
        String reason = f.hasNonNull("reason") && !f.get("reason").asText().isBlank() ? ": " + f.get("reason").asText() : "";
        return text(f, "replicas") + " replicas from " + time(f.path("from")) + " until " + time(f.path("until"))
                + " (id " + text(f, "id") + ")" + reason;
    }

    private static String time(JsonNode millis) {
        return millis.isNumber() ? Instant.ofEpochMilli(millis.asLong()).toString() : "-";
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }
}
