package io.tern.local.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DashboardsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Set<String>> KNOWN = Map.of("known", Set.of("role"));

    @Test
    void promqlMetricsLeavesOutFunctionsLabelsRangesGroupingAndStrings() {
        assertEquals(Set.of("http_server_requests_seconds_bucket"), Dashboards.promqlMetrics(
                "histogram_quantile(0.99, sum by (le, route) (rate(http_server_requests_seconds_bucket"
                        + "{role=\"logic-node\", instance=~\"$instance\"}[$__rate_interval])))"));
        assertEquals(Set.of("a_total", "b"), Dashboards.promqlMetrics(
                "sum(rate(a_total[5m])) / on (instance) group_left max without (x) (b) > 1e3 and bool 2"));
        assertEquals(Set.of("c"), Dashboards.promqlMetrics("max by (topic) (c{topic=\"tern.bodies\"}) offset 5m"));
    }

    @Test
    void metricLabelsReadsTheExpositionValuesWithBracesIncluded() {
        assertEquals(Map.of("x_total", Set.of("role", "route", "status"), "y", Set.of()), Dashboards.metricLabels(
                "# HELP x_total x\n# TYPE x_total counter\n"
                        + "x_total{role=\"logic-node\",route=\"/v1/tasks/{taskId}\",status=\"200\",} 3.0\ny 1\n"));
    }

    @Test
    void labelsNoSeriesHasAreReported() {
        Map<String, Set<String>> labels = Map.of("a_total", Set.of("role", "outcome"), "b_bucket", Set.of("role", "le"));
        assertEquals(Set.of(), Dashboards.unknownLabels(
                "sum by (outcome) (rate(a_total{role=\"x\"}[5m])) / histogram_quantile(0.9, sum by (le) (b_bucket))", labels));
        assertEquals(Set.of("a_total{region}", "by (regoin)"), Dashboards.unknownLabels(
                "sum by (regoin) (a_total{region=~\"n.*\"})", labels));
    }

    @Test
    void aPanelNamingAMetricTheRoleDoesNotExportIsReported() throws Exception {
        List<String> problems = Dashboards.check("d.json", dashboard("\"uid\":\"${datasource}\"", "missing_metric"),
                KNOWN);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("missing_metric"), problems.toString());
    }

    @Test
    void aPanelWithAFixedDatasourceIsReported() throws Exception {
        List<String> problems = Dashboards.check("d.json", dashboard("\"uid\":\"prometheus-prod\"", "known"), KNOWN);
        assertTrue(problems.stream().anyMatch(p -> p.contains("prometheus-prod")), problems.toString());
    }

    @Test
    void aDashboardTemplatedAndQueryingExportedMetricsPasses() throws Exception {
        assertEquals(List.of(), Dashboards.check("d.json", dashboard("\"uid\":\"${datasource}\"", "known"), KNOWN));
    }

    private static JsonNode dashboard(String datasource, String metric) throws Exception {
        return JSON.readTree("{\"templating\":{\"list\":[{\"name\":\"datasource\",\"type\":\"datasource\",\"query\":\"prometheus\"}]},"
                + "\"panels\":[{\"type\":\"row\",\"title\":\"r\",\"panels\":[]},"
                + "{\"type\":\"timeseries\",\"title\":\"p\",\"datasource\":{\"type\":\"prometheus\"," + datasource + "},"
                + "\"targets\":[{\"refId\":\"A\",\"expr\":\"sum(rate(" + metric + "[5m]))\"}]}]}");
    }
}
