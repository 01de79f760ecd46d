package io.tern.ops.cli.region;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.ops.cli.admin.ApiError;
import io.tern.ops.cli.admin.ProgressLine;
import io.tern.ops.cli.admin.Table;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * How the region commands print the admin API's answers for a person: pure functions of the JSON (and of
 * the time, for a move's age), so they are tested without a scheduler. Fields the answer lacks print as
 * "-", never fail: an older or newer scheduler still renders.
 */
public final class RegionView {
    private RegionView() {
    }

    /** {@code GET /v1/regions} as a table, the policy version above it. */
    public static String regions(JsonNode answer) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"REGION", "STATE", "SERVED BY", "BROKERS", "CONNECTIONS", "MOVE"});
        for (JsonNode r : answer.path("regions")) {
            rows.add(new String[]{text(r, "name"), text(r, "state"), text(r, "servedBy"), text(r, "brokers"),
                    text(r, "connections"), r.hasNonNull("move") ? move(r.get("move")) : ""});
        }
        return "policy version " + text(answer, "version") + System.lineSeparator() + Table.render(rows);
    }

    /** A move as the region list shows it, e.g. {@code failover to south, stage 2 (to 5%), 200/s, paused: why}. */
    static String move(JsonNode m) {
        StringBuilder b = new StringBuilder();
        b.append(text(m, "direction")).append(" to ").append(text(m, "to"));
        if (m.has("stage")) {
            b.append(", ").append(stage(m));
        }
        if (m.has("ratePerSecond")) {
            b.append(", ").append(m.path("ratePerSecond").asText()).append("/s");
        }
        if (m.path("paused").asBoolean(false)) {
            b.append(", paused: ").append(text(m, "pausedReason"));
        }
        return b.toString();
    }

    /** What a failover or failback answered (202): the new policy version and how to follow the move. */
    public static String accepted(RegionArgs args, JsonNode answer) {
        String what = args.action() == RegionArgs.Action.FAILOVER
                ? "failover of " + args.region() + " to " + args.to()
                : "failback of " + args.region();
        return what + " accepted: policy version " + text(answer, "version") + System.lineSeparator()
                + "follow it: ternctl region watch " + args.region();
    }

    /**
     * True while the progress answer says the move is under way: its {@code moving} flag, else the region's state
     * (failing over or back).
     */
    public static boolean moving(JsonNode progress) {
        if (progress.path("moving").isBoolean()) {
            return progress.get("moving").asBoolean();
        }
        String state = progress.path("state").asText("");
        return state.equals("failing-over") || state.equals("failing-back");
    }

    /**
     * One line of {@code GET /v1/regions/{name}/move}: who moves where, a bar of the share of covered devices
     * that have left, the counts, the stage, the rate and, when paused, why. When the move is over the bar is
     * full and the line says where the region now stands.
     */
    public static String progress(JsonNode p, Instant now) {
        double done = fractionDone(p);
        StringBuilder b = new StringBuilder();
        b.append(text(p, "from")).append(" -> ").append(text(p, "to")).append(' ').append(text(p, "direction"))
                .append(' ').append(ProgressLine.bar(done)).append(' ').append(String.format(Locale.ROOT, "%3d%%", (int) Math.floor(done * 100)))
                .append("  moved ").append(text(p, "moved")).append("  left ").append(text(p, "left"));
        if (!moving(p)) {
            return b.append("  done: ").append(text(p, "region")).append(' ').append(text(p, "state")).toString();
        }
        if (p.has("stage")) {
            b.append("  ").append(stage(p));
        }
        JsonNode current = p.path("currentRatePerSecond");
        b.append("  ").append(current.isNumber() ? Long.toString(Math.round(current.asDouble())) : "-").append("/s of ").append(text(p, "ratePerSecond")).append("/s");
        Instant started = instant(p.path("startedAt"));
        if (started != null) {
            b.append("  ").append(elapsed(Duration.ofMillis(Math.max(0, now.toEpochMilli() - started.toEpochMilli()))));
        }
        if (p.path("paused").asBoolean(false)) {
            b.append("  PAUSED: ").append(text(p, "pausedReason"));
        }
        return b.toString();
    }

    /** {@code stage 2/4 (to 5%)}: 1-based, of how many when the answer says, and the share it moves to. */
    private static String stage(JsonNode n) {
        StringBuilder b = new StringBuilder("stage ").append(n.path("stage").asInt() + 1);
        if (n.path("stages").isNumber()) {
            b.append('/').append(n.path("stages").asInt());
        }
        if (n.has("stageFraction")) {
            b.append(" (to ").append(percent(n.path("stageFraction").asDouble())).append(')');
        }
        return b.toString();
    }

    /**
     * Share of the covered devices that have left: 1 - left / coveredAtStart (the bar is full exactly when
     * nothing is left), or moved / (moved + left) when the answer has no covered count; 1 once the move is over.
     */
    static double fractionDone(JsonNode p) {
        if (!moving(p)) {
            return 1;
        }
        long left = p.path("left").asLong(0);
        long covered = p.path("coveredAtStart").asLong(0);
        long moved = p.path("moved").asLong(0);
        double f;
        if (covered > 0) {
            f = 1 - (double) left / covered;
        } else if (moved + left > 0) {
            f = (double) moved / (moved + left);
        } else {
            f = 0;
        }
        return Math.max(0, Math.min(1, f));
    }

    /** {@code GET /v1/regions/history}: one change a line, newest first, as the API lists them. */
    public static String history(JsonNode answer) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"AT (UTC)", "VERSION", "BY", "ACTION", "REGION", "DETAIL"});
        for (JsonNode c : changes(answer)) {
            Instant when = instant(c.has("at") ? c.path("at") : c.path("atMillis"));
            String at = when == null ? "-" : when.truncatedTo(ChronoUnit.SECONDS).toString();
            rows.add(new String[]{at, text(c, "version"), text(c, "by"), text(c, "action"), text(c, "region"),
                    c.path("detail").asText("")});
        }
        return Table.render(rows);
    }

    /** The change list: the answer itself when it is an array, else its first array field. */
    private static JsonNode changes(JsonNode answer) {
        if (answer.isArray()) {
            return answer;
        }
        for (Iterator<JsonNode> it = answer.elements(); it.hasNext(); ) {
            JsonNode n = it.next();
            if (n.isArray()) {
                return n;
            }
        }
        return answer.path("changes");
    }

    /** An API refusal: its message, the field it names, the status and error code. */
    public static String error(ApiError e) {
        StringBuilder b = new StringBuilder("error: ").append(e.getMessage());
        if (e.field() != null) {
            b.append(" (field ").append(e.field()).append(')');
        }
        b.append(" [HTTP ").append(e.status());
        if (e.code() != null) {
            b.append(' ').append(e.code());
        }
        return b.append(']').toString();
    }

    /** An instant as the API writes it (ISO-8601) or as epoch millis; null when neither. */
    static Instant instant(JsonNode n) {
        if (n.isNumber()) {
            return Instant.ofEpochMilli(n.asLong());
        }
        if (n.isTextual()) {
            try {
                return Instant.parse(n.asText());
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }

    private static String percent(double fraction) {
        double p = fraction * 100;
        return (p == Math.rint(p) ? Long.toString((long) p) : String.format(Locale.ROOT, "%.1f", p)) + "%";
    }

    private static String elapsed(Duration d) {
        long s = d.toSeconds();
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
