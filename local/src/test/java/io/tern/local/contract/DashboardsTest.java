package io.tern.local.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DashboardsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

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
    void metricNamesReadsTheExposition() {
        assertEquals(Set.of("x_total", "y"), Dashboards.metricNames(
                "# HELP x_total x\n# TYPE x_total counter\nx_total{role=\"broker\"} 3.0\ny 1\n"));
    }

    @Test
    void aPanelNamingAMetricTheRoleDoesNotExportIsReported() throws Exception {
        List<String> problems = Dashboards.check("d.json", dashboard("\"uid\":\"${datasource}\"", "missing_metric"),
                Set.of("known"));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("missing_metric"), problems.toString());
    }

    @Test
    void aPanelWithAFixedDatasourceIsReported() throws Exception {
        List<String> problems = Dashboards.check("d.json", dashboard("\"uid\":\"prometheus-prod\"", "known"), Set.of("known"));
        assertTrue(problems.stream().anyMatch(p -> p.contains("prometheus-prod")), problems.toString());
    }

    @Test
    void aDashboardTemplatedAndQueryingExportedMetricsPasses() throws Exception {
        assertEquals(List.of(), Dashboards.check("d.json", dashboard("\"uid\":\"${datasource}\"", "known"), Set.of("known")));
    }

    private static JsonNode dashboard(String datasource, String metric) throws Exception {
        return JSON.readTree("{\"templating\":{\"list\":[{\"name\":\"datasource\",\"type\":\"datasource\",\"query\":\"prometheus\"}]},"
                + "\"panels\":[{\"type\":\"row\",\"title\":\"r\",\"panels\":[]},"
                + "{\"type\":\"timeseries\",\"title\":\"p\",\"datasource\":{\"type\":\"prometheus\"," + datasource + "},"
                + "\"targets\":[{\"refId\":\"A\",\"expr\":\"sum(rate(" + metric + "[5m]))\"}]}]}");
    }
}
