package io.tern.loadtest.stats;

import io.tern.loadtest.process.ProcStat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU use of groups of processes ("clients", "brokers", "platform", "redis") between two
 * snapshots, from /proc/&lt;pid&gt;/stat, in percent of one core (this machine has 2 cores: 200 %
 * is all of it).
 */
public final class CpuMeter {
    /** The device simulator / load generator group: not the platform's cost. */
    public static final String CLIENTS = "clients";
    /** What is not ours on the machine (other users' builds share these cores). */
    public static final String OTHER = "other";
    /** In {@link #microsPerDelivery}: every group but {@link #CLIENTS} (and {@link #OTHER}), the platform's cost. */
    public static final String SERVER = "server";

    private final Map<String, List<Long>> groups = new LinkedHashMap<>();

    public CpuMeter group(String name, List<Long> pids) {
        groups.put(name, List.copyOf(pids));
        return this;
    }

    public Snapshot snapshot() {
        Map<String, long[]> ticks = new LinkedHashMap<>();
        long ours = 0;
        for (Map.Entry<String, List<Long>> g : groups.entrySet()) {
            long t = 0;
            for (long pid : g.getValue()) {
                t += ProcStat.read(pid).cpuTicks();
            }
            ours += t;
            ticks.put(g.getKey(), new long[]{t});
        }
        long machine = machineBusyTicks();
        if (machine >= 0) {
            // Everything else on the machine (other users' builds and tests share these 2 cores).
            ticks.put(OTHER, new long[]{machine - ours});
        }
        return new Snapshot(System.nanoTime(), ticks);
    }

    /** Busy ticks of all CPUs from the first line of /proc/stat (user, nice, system, irq, softirq, steal), or -1. */
    public static long machineBusyTicks() {
        try {
            String first = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0);
            String[] f = first.trim().split("\\s+");
            // cpu user nice system idle iowait irq softirq steal ...
            return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                    + Long.parseLong(f[7]) + Long.parseLong(f[8]);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Ticks per group at one moment. */
    public record Snapshot(long nanos, Map<String, long[]> ticks) {
        /** Percent of one core per group since {@code earlier}. */
        public Map<String, Double> percentSince(Snapshot earlier) {
            double wall = (nanos - earlier.nanos) / 1e9;
            Map<String, Double> out = new LinkedHashMap<>();
            ticks.forEach((name, t) -> {
                long[] before = earlier.ticks.get(name);
                double used = (t[0] - (before == null ? 0 : before[0])) / (double) ProcStat.TICKS_PER_SECOND;
                out.put(name, wall <= 0 ? 0 : Math.round(1000.0 * used / wall) / 10.0);
            });
            return out;
        }

        /** CPU seconds per group since {@code earlier}. */
        public Map<String, Double> secondsSince(Snapshot earlier) {
            Map<String, Double> out = new LinkedHashMap<>();
            ticks.forEach((name, t) -> {
                long[] before = earlier.ticks.get(name);
                out.put(name, (t[0] - (before == null ? 0 : before[0])) / (double) ProcStat.TICKS_PER_SECOND);
            });
            return out;
        }
    }

    /**
     * CPU microseconds per delivery of each group (from {@link Snapshot#secondsSince}), then {@link #SERVER}, their
     * sum without the clients; {@link #OTHER} is left out (not ours). Empty when there was no delivery.
     */
    public static Map<String, Double> microsPerDelivery(Map<String, Double> cpuSeconds, long deliveries) {
        Map<String, Double> out = new LinkedHashMap<>();
        if (deliveries <= 0) {
            return out;
        }
        double server = 0;
        for (Map.Entry<String, Double> e : cpuSeconds.entrySet()) {
            if (e.getKey().equals(OTHER)) {
                continue;
            }
            double us = e.getValue() * 1e6 / deliveries;
            out.put(e.getKey(), round2(us));
            if (!e.getKey().equals(CLIENTS)) {
                server += us;
            }
        }
        out.put(SERVER, round2(server));
        return out;
    }

    /** "server 4.20 µs (brokers 2.10 · platform 1.50 · redis 0.60) · clients 3.00 µs", or "n/a" when empty. */
    public static String describeMicros(Map<String, Double> perDelivery) {
        if (perDelivery.isEmpty()) {
            return "n/a";
        }
        StringBuilder parts = new StringBuilder();
        perDelivery.forEach((k, v) -> {
            if (!k.equals(SERVER) && !k.equals(CLIENTS)) {
                parts.append(parts.length() > 0 ? " · " : "").append(String.format("%s %.2f", k, v));
            }
        });
        String s = String.format("server %.2f µs (%s)", perDelivery.get(SERVER), parts);
        Double clients = perDelivery.get(CLIENTS);
        return clients == null ? s : s + String.format(" · clients %.2f µs", clients);
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /** "clients 45% · brokers 80% · platform 30% · redis 5%". */
    public static String describe(Map<String, Double> percent) {
        StringBuilder sb = new StringBuilder();
        percent.forEach((k, v) -> {
            if (sb.length() > 0) {
                sb.append(" · ");
            }
            sb.append(k).append(' ').append(Math.round(v)).append('%');
        });
        return sb.toString();
    }
}
