package io.tern.local.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checks of the Grafana dashboards in the repository: one per role ({@code tern-<role>.json}) and one for the whole
 * platform ({@code tern-platform.json}); each has a datasource template variable {@code datasource} that every panel
 * and query uses, and every PromQL query names only metrics the role (for the platform: any role) exports.
 */
final class Dashboards {
    static final String DATASOURCE = "${datasource}";
    static final String PLATFORM = "platform";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("(?<![\\w.:$])[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"(?:[^\"\\\\]|\\\\.)*\",?");
    private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)}");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without|on|ignoring)\\s*\\(([^)]*)\\)");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "inf", "nan", "by",
            "without", "on", "ignoring", "group_left", "group_right");

    private Dashboards() {
    }

    /** Each metric's label names in a Prometheus text exposition. */
    static Map<String, Set<String>> metricLabels(String exposition) {
        Map<String, Set<String>> out = new TreeMap<>();
        for (String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                end++;
            }
            Set<String> labels = out.computeIfAbsent(line.substring(0, end), n -> new TreeSet<>());
            if (end < line.length() && line.charAt(end) == '{') {
                // Pair by pair: a value may hold braces or '="' itself (route="/v1/tasks/{taskId}").
                Matcher m = LABEL.matcher(line.substring(end + 1));
                while (m.lookingAt()) {
                    labels.add(m.group(1));
                    m.region(m.end(), m.regionEnd());
                }
            }
        }
        return out;
    }

    /**
     * Label names a PromQL expression relies on that none of its metrics has: in a selector's matchers
     * ({@code m{x="1"}} needs x on m) and in grouping ({@code by (x)} needs x on one of the expression's metrics).
     */
    static Set<String> unknownLabels(String expr, Map<String, Set<String>> labels) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");
        Set<String> out = new TreeSet<>();
        Matcher sel = SELECTOR.matcher(s);
        while (sel.find()) {
            Set<String> known = labels.getOrDefault(sel.group(1), Set.of());
            Matcher m = MATCHER.matcher(sel.group(2));
            while (m.find()) {
                if (!known.contains(m.group(1))) {
                    out.add(sel.group(1) + "{" + m.group(1) + "}");
                }
            }
        }
        Set<String> anyMetric = new TreeSet<>(Set.of("le"));
        promqlMetrics(expr).forEach(n -> anyMetric.addAll(labels.getOrDefault(n, Set.of())));
        Matcher g = GROUPING.matcher(s);
        while (g.find()) {
            for (String l : g.group(1).split(",")) {
                if (!l.isBlank() && !anyMetric.contains(l.trim())) {
                    out.add("by (" + l.trim() + ")");
                }
            }
        }
        return out;
    }

    /** The metric names a PromQL expression selects (functions, keywords, labels, ranges and strings left out). */
    static Set<String> promqlMetrics(String expr) {
        String s = expr
                .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\boffset\\s+\\S+", " ");
        Set<String> out = new TreeSet<>();
        Matcher m = NAME.matcher(s);
        while (m.find()) {
            String name = m.group();
            int next = m.end();
            while (next < s.length() && s.charAt(next) == ' ') {
                next++;
            }
            boolean function = next < s.length() && s.charAt(next) == '(';
            if (!function && !KEYWORDS.contains(name.toLowerCase())) {
                out.add(name);
            }
        }
        return out;
    }

    /**
     * @param exported each metric's labels by role (the dashboards' names); the platform dashboard may use any
     * @throws AssertionError naming the dashboard and panel at fault
     */
    static void check(Path dir, Map<String, Map<String, Set<String>>> exported) throws IOException {
        Map<String, Set<String>> all = new TreeMap<>();
        exported.values().forEach(role -> role.forEach((m, l) -> all.computeIfAbsent(m, x -> new TreeSet<>()).addAll(l)));
        Set<String> expected = new TreeSet<>(exported.keySet());
        expected.add(PLATFORM);
        Set<String> found = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                String name = f.getFileName().toString();
                String role = name.replaceFirst("^tern-", "").replaceFirst("\\.json$", "");
                if (!expected.contains(role)) {
                    problems.add(name + ": not tern-<role>.json for a role (" + expected + ")");
                    continue;
                }
                found.add(role);
                Map<String, Set<String>> metrics = role.equals(PLATFORM) ? all : exported.get(role);
                problems.addAll(check(name, JSON.readTree(f.toFile()), metrics));
            }
        }
        Set<String> missing = new TreeSet<>(expected);
        missing.removeAll(found);
        if (!missing.isEmpty()) {
            problems.add("no dashboard for " + missing);
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("dashboards in " + dir + ":\n  " + String.join("\n  ", problems));
        }
    }

    static List<String> check(String name, JsonNode dashboard, Map<String, Set<String>> metrics) {
        List<String> problems = new ArrayList<>();
        boolean templated = false;
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (v.path("name").asText().equals("datasource") && v.path("type").asText().equals("datasource")
                    && v.path("query").asText().equals("prometheus")) {
                templated = true;
            }
            if (v.path("type").asText().equals("query")) {
                problems.addAll(datasource(name + " variable " + v.path("name").asText(), v.path("datasource")));
                String q = v.path("query").isObject() ? v.path("query").path("query").asText() : v.path("query").asText();
                problems.addAll(unknown(name + " variable " + v.path("name").asText(), q, metrics));
            }
        }
        if (!templated) {
            problems.add(name + ": no template variable 'datasource' of type datasource (prometheus)");
        }
        int queries = 0;
        for (JsonNode panel : panels(dashboard)) {
            String where = name + " panel '" + panel.path("title").asText() + "'";
            if (panel.path("type").asText().equals("row")) {
                continue;
            }
            problems.addAll(datasource(where, panel.path("datasource")));
            if (panel.path("targets").isEmpty()) {
                problems.add(where + ": no query");
            }
            for (JsonNode t : panel.path("targets")) {
                if (t.has("datasource")) {
                    problems.addAll(datasource(where, t.path("datasource")));
                }
                problems.addAll(unknown(where, t.path("expr").asText(), metrics));
                queries++;
            }
        }
        if (queries == 0) {
            problems.add(name + ": no queries at all");
        }
        return problems;
    }

    private static List<String> datasource(String where, JsonNode ds) {
        if (ds.path("uid").asText().equals(DATASOURCE)) {
            return List.of();
        }
        return List.of(where + ": datasource is " + ds + ", not the template variable " + DATASOURCE);
    }

    private static List<String> unknown(String where, String expr, Map<String, Set<String>> metrics) {
        if (expr.isBlank()) {
            return List.of(where + ": empty query");
        }
        String query = expr.replaceAll("label_values\\(([^,)]*)(,[^)]*)?\\)", "$1");
        Set<String> named = promqlMetrics(query);
        if (named.isEmpty()) {
            return List.of(where + ": query names no metric: " + expr);
        }
        named.removeAll(metrics.keySet());
        if (!named.isEmpty()) {
            return List.of(where + ": not exported " + named + " in " + expr);
        }
        Set<String> labels = unknownLabels(query, metrics);
        return labels.isEmpty() ? List.of() : List.of(where + ": labels no such series has " + labels + " in " + expr);
    }

    /** Every panel, those inside rows (collapsed rows keep theirs) included. */
    private static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            out.add(p);
            p.path("panels").forEach(out::add);
        }
        return out;
    }
}
