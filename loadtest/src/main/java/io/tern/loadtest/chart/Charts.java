package io.tern.loadtest.chart;

import com.fasterxml.jackson.databind.JsonNode;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.DefaultTableXYDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The charts of one run, drawn from its JSON result only (what the run measured; nothing interpolated
 * or made up): {@code throughput.png} (deliveries per second over time), {@code latency.png} (the
 * distribution of every latency the run measured, as a CDF), {@code connections-rss.png} (device
 * connections and RSS per process group over time) and {@code cpu.png} (CPU by process group over time,
 * or the run's averages when it sampled none). A chart with nothing to draw is not written; the
 * returned notes say which and why, as they do for a series left out because it has no samples.
 */
public final class Charts {
    public static final int WIDTH = 1000;
    public static final int HEIGHT = 500;

    /** The files written, and what was left out and why. */
    public record Result(List<Path> written, List<String> notes) {
    }

    private static final Map<String, String> LATENCY_NAMES = Map.of(
            "latencyMs", "intended send → device",
            "apiAnswerMs", "intended send → API answer",
            "latencyFromCallMs", "/all call → device",
            "latencyFromAnswerMs", "/all answer → device",
            "fanOutMs", "/all call → last device, per broadcast");

    private Charts() {
    }

    /** Writes the charts of {@code result} (a run's JSON line) into {@code dir}. */
    public static Result write(JsonNode result, Path dir) throws IOException {
        // No display on a build machine; must be set before AWT loads its toolkit.
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        String title = title(result);
        List<Path> written = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        JsonNode timeline = result.path("timeline");
        save(throughput(title, result, notes), dir.resolve("throughput.png"), written, notes);
        save(latency(title, result, notes), dir.resolve("latency.png"), written, notes);
        save(connectionsAndRss(title, timeline, notes), dir.resolve("connections-rss.png"), written, notes);
        save(cpu(title, result, notes), dir.resolve("cpu.png"), written, notes);
        return new Result(List.copyOf(written), List.copyOf(notes));
    }

    private static void save(Chart c, Path file, List<Path> written, List<String> notes) throws IOException {
        if (c.chart == null) {
            notes.add(file.getFileName() + " not drawn: " + c.why);
            return;
        }
        ChartUtils.saveChartAsPNG(file.toFile(), c.chart, WIDTH, HEIGHT);
        written.add(file);
    }

    /** A chart, or why there is none. */
    private record Chart(JFreeChart chart, String why) {
        static Chart none(String why) {
            return new Chart(null, why);
        }
    }

    private static String title(JsonNode r) {
        StringBuilder sb = new StringBuilder(r.path("scenario").asText("run"));
        if (r.has("devices")) {
            sb.append(String.format(", %,d devices", r.path("devices").asLong()));
        }
        if (r.has("brokers")) {
            sb.append(String.format(", %d broker(s)", r.path("brokers").asInt()));
        }
        return sb.toString();
    }

    private static Chart throughput(String title, JsonNode r, List<String> notes) {
        XYSeriesCollection data = new XYSeriesCollection();
        addSeries(data, r.path("timeline").path("t"), r.path("timeline").path("throughput"),
                Map.of("received", "deliveries received by the devices"), "throughput.png", notes);
        JsonNode burst = r.path("series");
        if (burst.isArray() && !burst.isEmpty()) {
            // burst samples the brokers' delivery rate itself (every 250 ms, kept once a second).
            XYSeries down = new XYSeries("downstream: the brokers' delivery rate");
            XYSeries accepted = new XYSeries("pushes accepted");
            JsonNode prev = null;
            for (JsonNode s : burst) {
                double t = s.path("t").asDouble();
                down.add(t, s.path("downstream").asDouble());
                if (prev != null && t > prev.path("t").asDouble()) {
                    accepted.add(t, (s.path("accepted").asDouble() - prev.path("accepted").asDouble())
                            / (t - prev.path("t").asDouble()));
                }
                prev = s;
            }
            data.addSeries(down);
            data.addSeries(accepted);
        }
        if (data.getSeriesCount() == 0) {
            return Chart.none("the run recorded no throughput over time");
        }
        JFreeChart c = ChartFactory.createXYLineChart(title + ": throughput", "seconds", "per second", data,
                PlotOrientation.VERTICAL, true, false, false);
        if (r.has("capacityPerSecond")) {
            ValueMarker cap = new ValueMarker(r.path("capacityPerSecond").asDouble(), Color.RED, new BasicStroke(1.5f));
            cap.setLabel("C");
            c.getXYPlot().addRangeMarker(cap);
        }
        style(c.getXYPlot());
        return new Chart(c, null);
    }

    /** Every latency the run measured, as percent of samples at or below a latency. */
    private static Chart latency(String title, JsonNode r, List<String> notes) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode cdf = f.getValue().path("cdf");
            if (!cdf.isArray()) {
                continue;
            }
            String name = LATENCY_NAMES.getOrDefault(f.getKey(), f.getKey());
            if (cdf.isEmpty()) {
                notes.add("latency.png: " + name + " (" + f.getKey() + ") left out: no samples");
                continue;
            }
            XYSeries s = new XYSeries(String.format("%s (%,d)", name, f.getValue().path("count").asLong()), false, true);
            for (JsonNode p : cdf) {
                s.add(p.get(1).asDouble(), p.get(0).asDouble());
            }
            data.addSeries(s);
        }
        if (data.getSeriesCount() == 0) {
            return Chart.none("the run recorded no latency samples");
        }
        JFreeChart c = ChartFactory.createXYLineChart(title + ": latency distribution", "ms",
                "percent of samples at or below", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot p = c.getXYPlot();
        ((NumberAxis) p.getRangeAxis()).setRange(0, 100);
        XYLineAndShapeRenderer line = new XYLineAndShapeRenderer(true, true);
        p.setRenderer(line);
        style(p);
        return new Chart(c, null);
    }

    private static Chart connectionsAndRss(String title, JsonNode timeline, List<String> notes) {
        JsonNode t = timeline.path("t");
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(new NumberAxis("seconds"));
        XYSeriesCollection conns = new XYSeriesCollection();
        addSeries(conns, t, timeline.path("connections"), Map.of("brokers", "device connections the brokers hold",
                "redis", "subscriber connections Redis holds"),
                "connections-rss.png", notes);
        if (conns.getSeriesCount() > 0) {
            plot.add(subplot(conns, "connections"), 1);
        }
        XYSeriesCollection rss = new XYSeriesCollection();
        addSeries(rss, t, timeline.path("rssMiB"), Map.of(), "connections-rss.png", notes);
        if (rss.getSeriesCount() > 0) {
            plot.add(subplot(rss, "RSS MiB"), 1);
        }
        if (plot.getSubplots().isEmpty()) {
            return Chart.none("the run recorded no connections or RSS over time");
        }
        JFreeChart c = new JFreeChart(title + ": connections and RSS by process group", JFreeChart.DEFAULT_TITLE_FONT,
                plot, true);
        ChartFactory.getChartTheme().apply(c);
        plot.getSubplots().forEach(p -> style((XYPlot) p));
        return new Chart(c, null);
    }

    private static XYPlot subplot(XYSeriesCollection data, String label) {
        NumberAxis y = new NumberAxis(label);
        y.setAutoRangeIncludesZero(true);
        return new XYPlot(data, null, y, new XYLineAndShapeRenderer(true, false));
    }

    /**
     * CPU by process group over time, stacked (the top is the machine's whole use; 100 % is one core),
     * at the samples where every group was read; without a timeline, the run's averages as bars.
     */
    private static Chart cpu(String title, JsonNode r, List<String> notes) {
        JsonNode t = r.path("timeline").path("t");
        JsonNode groups = r.path("timeline").path("cpuPct");
        if (groups.isObject() && !groups.isEmpty() && t.isArray() && !t.isEmpty()) {
            DefaultTableXYDataset data = new DefaultTableXYDataset();
            Map<String, XYSeries> series = new LinkedHashMap<>();
            groups.fieldNames().forEachRemaining(g -> series.put(g, new XYSeries(g, true, false)));
            double top = 0;
            for (int i = 0; i < t.size(); i++) {
                boolean complete = true;
                for (Iterator<JsonNode> it = groups.elements(); it.hasNext(); ) {
                    JsonNode v = it.next().path(i);
                    complete &= v.isNumber();
                }
                if (!complete) {
                    continue;
                }
                double total = 0;
                for (Map.Entry<String, XYSeries> e : series.entrySet()) {
                    double v = groups.get(e.getKey()).get(i).asDouble();
                    e.getValue().add(t.get(i).asDouble(), v);
                    total += v;
                }
                top = Math.max(top, total);
            }
            series.values().forEach(data::addSeries);
            if (data.getItemCount() > 0) {
                JFreeChart c = ChartFactory.createStackedXYAreaChart(title + ": CPU by process group", "seconds",
                        "percent of one core", data, PlotOrientation.VERTICAL, true, false, false);
                int cores = r.path("timeline").path("cores").asInt();
                if (cores > 0) {
                    ValueMarker all = new ValueMarker(100.0 * cores, Color.BLACK, new BasicStroke(1.5f));
                    all.setLabel("all " + cores + " cores");
                    all.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
                    all.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.BOTTOM_RIGHT);
                    c.getXYPlot().addRangeMarker(all);
                    // A marker does not widen the axis by itself.
                    c.getXYPlot().getRangeAxis().setRange(0, 1.05 * Math.max(top, 100.0 * cores));
                }
                style(c.getXYPlot());
                return new Chart(c, null);
            }
            notes.add("cpu.png: no sample read every process group; drawn from the run's averages if it has them");
        }
        JsonNode avg = r.path("cpuPct");
        if (!avg.isObject() || avg.isEmpty()) {
            return Chart.none("the run recorded no CPU figures");
        }
        DefaultCategoryDataset bars = new DefaultCategoryDataset();
        avg.fields().forEachRemaining(e -> bars.addValue(e.getValue().asDouble(), "measured phase", e.getKey()));
        JFreeChart c = ChartFactory.createBarChart(title + ": CPU by process group (measured phase)", "process group",
                "percent of one core", bars, PlotOrientation.VERTICAL, false, false, false);
        c.getCategoryPlot().setBackgroundPaint(Color.WHITE);
        c.getCategoryPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        return new Chart(c, null);
    }

    /** One XY series per array in {@code group} (x from {@code t}, nulls skipped); empty ones noted and left out. */
    private static void addSeries(XYSeriesCollection data, JsonNode t, JsonNode group, Map<String, String> names,
                                  String chart, List<String> notes) {
        if (!group.isObject()) {
            return;
        }
        group.fields().forEachRemaining(e -> {
            String name = names.getOrDefault(e.getKey(), e.getKey());
            XYSeries s = new XYSeries(name);
            JsonNode values = e.getValue();
            for (int i = 0; i < values.size() && i < t.size(); i++) {
                if (values.get(i).isNumber()) {
                    s.add(t.get(i).asDouble(), values.get(i).asDouble());
                }
            }
            if (s.getItemCount() == 0) {
                notes.add(chart + ": " + name + " left out: no samples");
            } else {
                data.addSeries(s);
            }
        });
    }

    private static void style(XYPlot p) {
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(Color.LIGHT_GRAY);
        p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }
}
