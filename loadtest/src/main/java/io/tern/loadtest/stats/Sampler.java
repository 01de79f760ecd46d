package io.tern.loadtest.stats;

import io.tern.loadtest.process.ProcStat;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Once a second, what the run's charts show over time, into a {@link Timeline}: deliveries the devices
 * received per second, device connections the brokers hold, RSS and CPU (percent of one core) per process
 * group, and the rest of the machine's CPU ("other"). Groups are asked for on every tick, so processes
 * that start or restart later are followed; a process's CPU counts from the first time it is seen (its
 * start-up before that is not put into one second). A reading that fails is left out of that sample.
 */
public final class Sampler implements AutoCloseable {
    /** One sample a second for at most two hours: far beyond any planned run, small in the JSON. */
    public static final int MAX_SAMPLES = 7200;

    private final Timeline timeline = new Timeline(MAX_SAMPLES);
    private final Supplier<Map<String, List<Long>>> groups;
    private final LongSupplier received;
    private final LongSupplier connections;
    private final ScheduledExecutorService timer;
    private final long startNanos = System.nanoTime();
    private final Map<Long, Long> lastTicks = new HashMap<>();
    private long lastNanos = startNanos;
    private long lastMachineTicks = CpuMeter.machineBusyTicks();
    private long lastReceived = -1;
    private final String heldBy;
    private volatile long failures;
    private volatile String lastFailure = "";

    /**
     * @param groups      process group → pids (e.g. "clients", "brokers", "platform", "redis")
     * @param received    deliveries the devices received so far (may restart from zero), or -1 when unknown
     * @param connections device connections the servers hold now, or -1 when unknown
     * @param heldBy      who holds them: the series name under "connections" ("brokers"; "redis" for the baseline)
     */
    public Sampler(Supplier<Map<String, List<Long>>> groups, LongSupplier received, LongSupplier connections,
                   String heldBy) {
        this.groups = groups;
        this.received = received;
        this.connections = connections;
        this.heldBy = heldBy;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "loadtest-sampler");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::sampleQuietly, 1, 1, TimeUnit.SECONDS);
    }

    private void sampleQuietly() {
        try {
            sample();
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: lose this sample (counted), not the rest.
            failures++;
            lastFailure = e.toString();
        }
    }

    private synchronized void sample() {
        // CPU first and timed on its own: the connection count is an HTTP call that may take a while on a
        // busy machine, and a late clock makes the CPU of that second look higher than it was.
        Map<String, Double> cpu = new LinkedHashMap<>();
        Map<String, Double> rss = new LinkedHashMap<>();
        long ours = 0;
        for (Map.Entry<String, List<Long>> g : groups.get().entrySet()) {
            if (g.getValue().isEmpty()) {
                cpu.put(g.getKey(), 0.0); // e.g. no device processes yet: no CPU, and no RSS reading
                continue;
            }
            long ticks = 0;
            long rssKiB = 0;
            for (long pid : g.getValue()) {
                ProcStat s = ProcStat.read(pid);
                Long before = lastTicks.put(pid, s.cpuTicks());
                ticks += before == null ? 0 : Math.max(0, s.cpuTicks() - before);
                rssKiB += s.rssKiB();
            }
            ours += ticks;
            cpu.put(g.getKey(), (double) ticks); // into percent below, once the interval is known
            rss.put(g.getKey(), rssKiB / 1024.0);
        }
        long machine = CpuMeter.machineBusyTicks();
        long now = System.nanoTime();
        double dt = (now - lastNanos) / 1e9;
        lastNanos = now;
        cpu.replaceAll((group, ticks) -> 100.0 * ticks / ProcStat.TICKS_PER_SECOND / dt);
        if (machine >= 0 && lastMachineTicks >= 0) {
            cpu.put("other", Math.max(0, 100.0 * (machine - lastMachineTicks - ours) / ProcStat.TICKS_PER_SECOND / dt));
        }
        lastMachineTicks = machine;
        Map<String, Map<String, Double>> v = new LinkedHashMap<>();
        if (!cpu.isEmpty()) {
            v.put("cpuPct", cpu);
            v.put("rssMiB", rss);
        }
        long rx = received.getAsLong();
        if (rx >= 0) {
            if (lastReceived >= 0) {
                // Counters that went down were reset (e.g. after the warm-up): count from zero.
                long delta = rx >= lastReceived ? rx - lastReceived : rx;
                v.put("throughput", Map.of("received", delta / dt));
            }
            lastReceived = rx;
        }
        long conns = connections.getAsLong();
        if (conns >= 0) {
            v.put("connections", Map.of(heldBy, (double) conns));
        }
        timeline.add((now - startNanos) / 1e9, v);
    }

    /** Samples lost to an error, and the last error ("" with none). */
    public String failures() {
        return failures == 0 ? "" : failures + " sample(s) lost, the last to " + lastFailure;
    }

    /** Stops sampling and returns what was sampled. */
    public Timeline stop() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return timeline;
    }

    @Override
    public void close() {
        stop();
    }
}
