package io.tern.loadtest.stats;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Samples of a run over time, grouped the way they are drawn: group ("throughput", "connections",
 * "rssMiB", "cpuPct") → series (e.g. "brokers") → one value per sample time, null where the series had
 * no reading then. At most {@code maxSamples} samples are kept; later ones are counted, not stored, so
 * a run that goes on far longer than planned cannot fill the runner's heap. Thread-safe.
 */
public final class Timeline {
    private final int maxSamples;
    private final List<Double> seconds = new ArrayList<>();
    private final Map<String, Map<String, List<Double>>> groups = new LinkedHashMap<>();
    private long dropped;

    public Timeline(int maxSamples) {
        if (maxSamples < 1) {
            throw new IllegalArgumentException("maxSamples must be at least 1, got " + maxSamples);
        }
        this.maxSamples = maxSamples;
    }

    /**
     * One sample at {@code atSeconds} (since the timeline began): group → series → value.
     *
     * @return false when the timeline is full and the sample was dropped
     */
    public synchronized boolean add(double atSeconds, Map<String, Map<String, Double>> values) {
        if (seconds.size() >= maxSamples) {
            dropped++;
            return false;
        }
        int index = seconds.size();
        seconds.add(atSeconds);
        values.forEach((group, series) -> series.forEach((name, v) -> {
            List<Double> list = groups.computeIfAbsent(group, g -> new LinkedHashMap<>())
                    .computeIfAbsent(name, n -> new ArrayList<>());
            while (list.size() < index) {
                list.add(null); // the series began later than the timeline
            }
            list.add(v);
        }));
        for (Map<String, List<Double>> series : groups.values()) {
            for (List<Double> list : series.values()) {
                while (list.size() < seconds.size()) {
                    list.add(null);
                }
            }
        }
        return true;
    }

    public synchronized int size() {
        return seconds.size();
    }

    /** {"t": [s…], "dropped": n, "&lt;group&gt;": {"&lt;series&gt;": [v or null…]}}. */
    public synchronized ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        ArrayNode t = n.putArray("t");
        seconds.forEach(s -> t.add(Math.round(s * 10) / 10.0));
        n.put("dropped", dropped);
        groups.forEach((group, series) -> {
            ObjectNode g = n.putObject(group);
            series.forEach((name, values) -> {
                ArrayNode a = g.putArray(name);
                for (Double v : values) {
                    if (v == null) {
                        a.addNull();
                    } else {
                        a.add(Math.round(v * 10) / 10.0);
                    }
                }
            });
        });
        return n;
    }
}
