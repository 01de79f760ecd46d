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
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "inf", "nan", "by",
            "without", "on", "ignoring", "group_left", "group_right");

    private Dashboards() {
    }

    /** Metric names in a Prometheus text exposition. */
    static Set<String> metricNames(String exposition) {
        Set<String> out = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                end++;
            }
            out.add(line.substring(0, end));
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
     * @param exported metric names by role (the dashboards' names); the platform dashboard may use any of them
     * @throws AssertionError naming the dashboard and panel at fault
     */
    static void check(Path dir, Map<String, Set<String>> exported) throws IOException {
        Set<String> all = new TreeSet<>();
        exported.values().forEach(all::addAll);
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
                Set<String> metrics = role.equals(PLATFORM) ? all : exported.get(role);
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

    static List<String> check(String name, JsonNode dashboard, Set<String> metrics) {
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

    private static List<String> unknown(String where, String expr, Set<String> metrics) {
        if (expr.isBlank()) {
            return List.of(where + ": empty query");
        }
        Set<String> named = promqlMetrics(expr.replaceAll("label_values\\(([^,)]*)(,[^)]*)?\\)", "$1"));
        if (named.isEmpty()) {
            return List.of(where + ": query names no metric: " + expr);
        }
        named.removeAll(metrics);
        return named.isEmpty() ? List.of() : List.of(where + ": not exported " + named + " in " + expr);
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
