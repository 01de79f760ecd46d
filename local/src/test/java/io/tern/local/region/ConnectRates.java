package io.tern.local.region;

import io.tern.devstack.process.RoleProcess;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Samples each broker's CONNACK counter (its /metrics) at a fixed period while running, so a test can tell the
 * highest rate at which a broker admitted sessions over any window of {@link #WINDOW}.
 */
final class ConnectRates implements AutoCloseable {
    static final Duration WINDOW = Duration.ofSeconds(1);
    private static final Duration PERIOD = Duration.ofMillis(200);

    private record Sample(long nanos, double connAcks) {
    }

    private final Map<String, List<Sample>> samples = new LinkedHashMap<>();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "connect-rates");
        t.setDaemon(true);
        return t;
    });

    ConnectRates(List<RoleProcess> brokers) {
        brokers.forEach(b -> samples.put(b.id(), new ArrayList<>()));
        sampler.scheduleAtFixedRate(() -> brokers.forEach(b -> {
            OptionalDouble n = BrokerMetrics.connAcks(b);
            if (n.isPresent()) {
                synchronized (samples) {
                    samples.get(b.id()).add(new Sample(System.nanoTime(), n.getAsDouble()));
                }
            }
        }), 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Broker id → highest sessions admitted per second over any window of at least {@link #WINDOW}. */
    Map<String, Double> peakPerSecond() {
        Map<String, Double> out = new LinkedHashMap<>();
        synchronized (samples) {
            samples.forEach((id, s) -> {
                double peak = 0;
                int j = 0;
                for (int i = 0; i < s.size(); i++) {
                    j = Math.max(j, i + 1);
                    while (j < s.size() && s.get(j).nanos() - s.get(i).nanos() < WINDOW.toNanos()) {
                        j++;
                    }
                    if (j < s.size()) {
                        double seconds = (s.get(j).nanos() - s.get(i).nanos()) / 1e9;
                        peak = Math.max(peak, (s.get(j).connAcks() - s.get(i).connAcks()) / seconds);
                    }
                }
                out.put(id, peak);
            });
        }
        return out;
    }

    /** True once every broker has a sample taken after {@code nanos} (System.nanoTime). */
    boolean sampledAfter(long nanos) {
        synchronized (samples) {
            return samples.values().stream().allMatch(s -> !s.isEmpty() && s.get(s.size() - 1).nanos() > nanos);
        }
    }

    /** Broker id → sessions admitted since sampling began. */
    Map<String, Double> admitted() {
        Map<String, Double> out = new LinkedHashMap<>();
        synchronized (samples) {
            samples.forEach((id, s) -> out.put(id, s.isEmpty() ? 0 : s.get(s.size() - 1).connAcks() - s.get(0).connAcks()));
        }
        return out;
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
