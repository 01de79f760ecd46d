package io.tern.ops.cli.task;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.ops.cli.admin.ProgressLine;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * How the task commands print a logic node's answers for a person: pure functions of the JSON (and of the time, for
 * a task's age). Fields the answer lacks print as "-", never fail.
 */
public final class TaskView {
    private static final String[] COUNTERS = {"targeted", "sent", "delivered", "offline", "expired", "invalid",
            "callbackSent", "callbackFailed"};

    private TaskView() {
    }

    /** {@code GET /v1/admin/tasks/{taskId}}: state, owner, every counter, times. */
    public static String show(JsonNode t) {
        String nl = System.lineSeparator();
        StringBuilder b = new StringBuilder();
        b.append("task ").append(text(t, "taskId")).append(" of app ").append(text(t, "appId")).append(": ")
                .append(text(t, "state"));
        if (t.hasNonNull("reason")) {
            b.append(" (").append(t.get("reason").asText()).append(')');
        }
        b.append(nl);
        for (String c : COUNTERS) {
            b.append(String.format(Locale.ROOT, "  %-15s%s", c, number(t.path(c)))).append(nl);
        }
        b.append("  created        ").append(time(t.path("createdAt"))).append(nl);
        if (t.hasNonNull("sendAt")) {
            b.append("  send at        ").append(time(t.path("sendAt"))).append(nl);
        }
        b.append("  expires        ").append(time(t.path("expiresAt"))).append(nl);
        return b.toString();
    }

    /** {@code POST /v1/admin/tasks/{taskId}/recall}. */
    public static String recalled(JsonNode r) {
        if (r.path("alreadyRecalled").asBoolean(false)) {
            return "task " + text(r, "taskId") + " of app " + text(r, "appId") + " was already recalled";
        }
        return "task " + text(r, "taskId") + " of app " + text(r, "appId") + " recalled: " + number(r.path("pending"))
                + " undelivered copies will not be delivered";
    }

    /**
     * Whether watching is over: the task was recalled or failed, or every valid target's copy is delivered or
     * expired.
     */
    public static boolean settled(JsonNode t) {
        String state = t.path("state").asText("");
        if (state.equals("recalled") || state.equals("failed")) {
            return true;
        }
        long valid = valid(t);
        return state.equals("sending") && valid > 0 && done(t) >= valid;
    }

    /** Share of the valid targets whose copy is delivered or expired; 1 once the task is settled. */
    static double fraction(JsonNode t) {
        long valid = valid(t);
        if (valid <= 0) {
            return settled(t) ? 1 : 0;
        }
        return Math.min(1, (double) done(t) / valid);
    }

    /**
     * One progress line: {@code task 7 sending [####......]  40%  delivered 400  expired 0  of 1,000 valid  (sent 900,
     * offline 100)  00:12}; the elapsed time since the task was created when {@code now} is given.
     */
    public static String progress(JsonNode t, Instant now) {
        double f = fraction(t);
        StringBuilder b = new StringBuilder("task ").append(text(t, "taskId")).append(' ').append(text(t, "state"))
                .append(' ').append(ProgressLine.bar(f)).append(' ')
                .append(String.format(Locale.ROOT, "%3d%%", (int) Math.floor(f * 100)))
                .append("  delivered ").append(number(t.path("delivered"))).append("  expired ").append(number(t.path("expired")))
                .append("  of ").append(String.format(Locale.ROOT, "%,d", valid(t))).append(" valid")
                .append("  (sent ").append(number(t.path("sent"))).append(", offline ").append(number(t.path("offline")))
                .append(')');
        if (now != null && t.path("createdAt").isNumber()) {
            long s = Math.max(0, Duration.between(Instant.ofEpochMilli(t.get("createdAt").asLong()), now).toSeconds());
            b.append(s >= 3600 ? String.format(Locale.ROOT, "  %d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                    : String.format(Locale.ROOT, "  %02d:%02d", s / 60, s % 60));
        }
        return b.toString();
    }

    private static long valid(JsonNode t) {
        return Math.max(0, t.path("targeted").asLong(0) - t.path("invalid").asLong(0));
    }

    private static long done(JsonNode t) {
        return t.path("delivered").asLong(0) + t.path("expired").asLong(0);
    }

    private static String time(JsonNode millis) {
        return millis.isNumber() ? Instant.ofEpochMilli(millis.asLong()).toString() : "-";
    }

    private static String number(JsonNode n) {
        return n.isNumber() ? String.format(Locale.ROOT, "%,d", n.asLong()) : "-";
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }
}
