package io.tern.loadtest.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code /proc/<pid>/stat} and {@code /proc/<pid>/status} say about a process: CPU time
 * (user + system) and resident memory. Readings of a process that is gone are zero.
 */
public record ProcStat(long pid, long cpuTicks, long rssKiB, long readAtNanos) {
    /** USER_HZ: clock ticks per second in /proc/&lt;pid&gt;/stat (100 on Linux x86-64, {@code getconf CLK_TCK}). */
    public static final int TICKS_PER_SECOND = 100;

    public static ProcStat read(long pid) {
        long ticks = 0;
        long rss = 0;
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // Field 2 (comm) may hold spaces and parentheses: count fields after the last ')'.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            // After comm: f[0] is field 3 (state); utime is field 14, stime field 15.
            ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // process gone, or not Linux: zeros
        }
        return new ProcStat(pid, ticks, rss, System.nanoTime());
    }

    /**
     * CPU ticks per thread name of a process, from /proc/&lt;pid&gt;/task/*: names as the kernel keeps
     * them (15 characters), digits folded to N so pools add up ("lettuce-epollEv", "devices-N-N").
     */
    public static java.util.Map<String, Long> threadTicks(long pid) {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            tasks.forEach(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    String name = stat.substring(open + 1, close).replaceAll("\\d+", "N");
                    String[] f = stat.substring(close + 2).trim().split(" ");
                    out.merge(name, Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
                } catch (IOException | RuntimeException e) {
                    // thread ended meanwhile
                }
            });
        } catch (IOException | RuntimeException e) {
            // process gone
        }
        return out;
    }

    public double cpuSeconds() {
        return (double) cpuTicks / TICKS_PER_SECOND;
    }

    /** CPU used between {@code earlier} and this reading, in percent of one core. */
    public double cpuPercentSince(ProcStat earlier) {
        double wall = (readAtNanos - earlier.readAtNanos) / 1e9;
        return wall <= 0 ? 0 : 100.0 * (cpuTicks - earlier.cpuTicks) / TICKS_PER_SECOND / wall;
    }
}
