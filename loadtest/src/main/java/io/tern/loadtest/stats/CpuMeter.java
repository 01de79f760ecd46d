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
            ticks.put("other", new long[]{machine - ours});
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
