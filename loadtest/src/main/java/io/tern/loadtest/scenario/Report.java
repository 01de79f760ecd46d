package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.process.ChildIo;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** The end of a run: a human table (metric, value, note), free-form notes, then one JSON line. */
final class Report {
    private final String title;
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    final ObjectNode json;

    Report(String title, String scenario) {
        this.title = title;
        this.json = ChildIo.JSON.createObjectNode();
        json.put("scenario", scenario);
    }

    Report row(String metric, String value, String note) {
        rows.add(new String[]{metric, value, note == null ? "" : note});
        return this;
    }

    Report row(String metric, String value) {
        return row(metric, value, "");
    }

    Report note(String text) {
        notes.add(text);
        return this;
    }

    void print(PrintStream out) {
        int w0 = "metric".length();
        int w1 = "value".length();
        for (String[] r : rows) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.max(w1, r[1].length());
        }
        out.println();
        out.println("== " + title + " ==");
        String fmt = "%-" + w0 + "s  %" + w1 + "s  %s%n";
        out.printf(fmt, "metric", "value", "note");
        out.printf(fmt, "-".repeat(w0), "-".repeat(w1), "----");
        for (String[] r : rows) {
            out.printf(fmt, r[0], r[1], r[2]);
        }
        for (String n : notes) {
            out.println(n);
        }
        out.println(json.toString());
        out.flush();
    }

    static String ms(long micros) {
        return String.format("%.1f ms", micros / 1000.0);
    }

    static String count(long n) {
        return String.format("%,d", n);
    }

    static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }

    static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
