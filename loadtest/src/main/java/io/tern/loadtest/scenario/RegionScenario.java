package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.devstack.process.ProcessCluster;
import io.tern.devstack.process.RoleProcess;
import io.tern.loadtest.stats.CounterSeries;
import io.tern.loadtest.stats.EpochClock;
import io.tern.store.registry.BrokerInfo;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What {@code failover} and {@code region-death} share: the platform as processes with brokers spread over
 * {@code --regions} regions ({@code --brokers-per-region} each) and two global schedulers, {@code --devices}
 * devices whose home regions are spread evenly (one region per device process), single pushes at
 * {@code --push-rate} to all of them from before the experiment until after it, then the loss count.
 * While it runs, the broker registry is read as the scheduler reads it (connect counters per broker) and the
 * devices' counters are kept over time (sessions ended by REGION_MOVED, devices connected).
 */
abstract class RegionScenario extends ClusterScenario {
    /** Pushes before and after the experiment: the stream is steady when it starts and goes on after it. */
    private static final Duration STEADY = Duration.ofSeconds(5);
    /** Pushes are sent at most this long; the runner stops them when the experiment is over. */
    private static final int MAX_PUSH_SECONDS = 3_600;
    protected final List<String> regions;
    protected RegistryWatch registry;
    protected DeviceProcesses devices;
    /** Devices' sessions ended by REGION_MOVED, summed over device processes, by sample time (epoch ms). */
    protected final CounterSeries redirects = new CounterSeries();
    private volatile long connectedNow;
    private Thread deviceSampler;
    private volatile boolean sampling = true;
    private ObjectNode result;

    protected RegionScenario(Options o, PrintStream out) {
        super(o, out);
        this.regions = o.regionNames();
    }

    /** The experiment, while pushes flow; adds its rows to the report and returns whether its targets were met. */
    protected abstract boolean experiment(Report report) throws Exception;

    protected abstract String title();

    @Override
    public final int run() throws Exception {
        try {
            Class.forName(ProcessCluster.SCHEDULER_MAIN);
        } catch (ClassNotFoundException e) {
            say(ProcessCluster.SCHEDULER_MAIN + " is not in this build: no global scheduler to run " + o.scenario);
            return NOT_AVAILABLE;
        }
        say("run directory " + o.runDir + " (a log per process); regions " + regions + ", " + o.brokersPerRegion
                + " broker(s) each");
        startCluster(o.brokers, c -> c.withRegions(regions, 2));
        registry = new RegistryWatch(cluster.redisUri(), cluster.brokers().stream().map(RoleProcess::id).toList(),
                Duration.ofMillis(200));
        devices = startClusterDevices(regions);
        awaitConnected(devices);
        if (devices.totals().everConnected() < o.devices) {
            // A move measured while devices still arrive measures the arrival: no numbers rather than wrong ones.
            say("not every device connected within --connect-timeout " + o.connectTimeout + " s: no experiment");
            return 1;
        }
        startDeviceSampler();
        awaitTrue("every device in the registry", Duration.ofSeconds(30),
                () -> registry.brokers().values().stream().mapToInt(BrokerInfo::connections).sum() >= o.devices);
        say("homes: " + registry.describe());

        Report report = new Report(title(), o.scenario);
        boolean met;
        Delivery d;
        JsonNode fin;
        try (PushStream pushes = pushStream(devices, o.pushRate, MAX_PUSH_SECONDS)) {
            pushes.go();
            sleep(STEADY.toMillis());
            say("push: " + pushes.progress());
            met = experiment(report);
            sleep(STEADY.toMillis());
            pushes.stop();
            fin = pushes.awaitFinal();
            d = drain(devices, fin.path("accepted").asLong());
        }
        ObjectNode j = report.json;
        j.put("devices", o.devices);
        j.put("regions", regions.size());
        j.put("brokersPerRegion", o.brokersPerRegion);
        j.put("pushRate", o.pushRate);
        j.put("accepted", d.accepted());
        j.put("delivered", d.delivered());
        j.put("queuedAtAccept", fin.path("statusOffline").asLong());
        j.put("lost", d.lost());
        j.put("duplicates", d.duplicates());
        j.put("refusedPushes", refused(fin));
        j.put("pushP99Ms", Report.round1(d.latency().percentile(99) / 1000.0));
        report.row("pushes accepted", Report.count(d.accepted()), String.format("%d/s for the whole run; %,d refused "
                + "by the API (not retried)", o.pushRate, refused(fin)));
        report.row("delivered", Report.count(d.delivered()), "distinct messages the devices received");
        report.row("queued / expired", fin.path("statusOffline").asLong() + " / 0",
                "accepted as offline (device queue, delivered on landing); TTL " + o.ttlSeconds + " s");
        report.row("lost", Report.count(d.lost()), "accepted − delivered after the drain");
        report.row("duplicates", Report.count(d.duplicates()), "dropped by the SDK's de-duplication");
        report.row("push p99 (run)", Report.ms(d.latency().percentile(99)), "intended send → delivery, whole run");
        ObjectNode w = j.putObject("pushP99MsDuring");
        d.windows().forEach((name, h) -> {
            w.put(name, Report.round1(h.percentile(99) / 1000.0));
            report.row("push p99 " + name, Report.ms(h.percentile(99)), String.format(
                    "pushes sent during the %s (%,d), max %s", name, h.count(), Report.ms(h.max())));
        });
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        report.note(String.format(java.util.Locale.ROOT, "machine: %d cores, load average %.1f at the end; every process "
                + "of the platform, the devices and the generator run on it", os.getAvailableProcessors(),
                os.getSystemLoadAverage()));
        finish(report);
        result = j;
        return met && d.lost() == 0 ? 0 : 1;
    }

    /** Marks the start of a latency window: pushes sent from now count in {@code name} until {@link #endWindow}. */
    protected long startWindow(String name) {
        long now = EpochClock.nowMicros();
        devices.send("window " + name + " " + now + " " + Long.MAX_VALUE);
        return now;
    }

    protected void endWindow(String name, long fromMicros) {
        devices.send("window " + name + " " + fromMicros + " " + EpochClock.nowMicros());
    }

    /** Devices connected right now, by their processes' latest counters. */
    protected long connectedNow() {
        return connectedNow;
    }

    private void startDeviceSampler() {
        deviceSampler = new Thread(() -> {
            while (sampling) {
                DeviceProcesses.Totals t = devices.totals();
                redirects.add(System.currentTimeMillis(), t.regionMoved());
                connectedNow = t.connected();
                try {
                    Thread.sleep(Math.max(50, o.statsEveryMs / 2));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "device-sampler");
        deviceSampler.setDaemon(true);
        deviceSampler.start();
    }

    /** Polls {@code condition} every 100 ms until true (returns true) or the timeout (returns false). */
    protected boolean awaitTrue(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                say("timed out after " + timeout.toSeconds() + " s waiting for " + what);
                return false;
            }
            sleep(100);
        }
        return true;
    }

    /**
     * One row and a JSON entry per broker of {@code region}: its peak admissions per second over
     * [fromMillis, toMillis] (report-to-report, windows of at least 1 s) against its admission cap, and what
     * it admitted and refused in that time. Returns whether none went above its cap.
     */
    protected boolean admissionRows(Report report, ArrayNode json, String label, String region, long fromMillis,
                                    long toMillis) {
        boolean withinCap = true;
        for (BrokerInfo b : registry.brokers().values()) {
            if (!b.region().equals(region)) {
                continue;
            }
            RegistryWatch.Connects c = registry.connects(b.id());
            CounterSeries.Peak peak = c.admitted().peak(fromMillis, toMillis, 1_000);
            int cap = b.connects().admissionPerSecond();
            long admitted = c.admitted().delta(fromMillis, toMillis);
            long refused = c.refused().delta(fromMillis, toMillis);
            long failed = c.failed().delta(fromMillis, toMillis);
            boolean over = cap > 0 && peak.perSecond() > cap;
            withinCap &= !over;
            ObjectNode n = json.addObject();
            n.put("move", label);
            n.put("broker", b.id());
            n.put("region", region);
            n.put("peakAdmissionsPerSecond", Report.round1(peak.perSecond()));
            n.put("admissionCap", cap);
            n.put("admitted", admitted);
            n.put("refused", refused);
            n.put("failed", failed);
            report.row(label + " " + b.id() + " peak", String.format("%,.0f/s", peak.perSecond()), String.format(
                    "admissions/s (registry, ≥ 1 s windows) vs cap %s%s; admitted %,d, refused SERVER_BUSY %,d, failed %,d",
                    cap == 0 ? "none" : String.format("%,d/s", cap), over ? " — ABOVE CAP" : "", admitted, refused, failed));
        }
        return withinCap;
    }

    @Override
    public ObjectNode result() {
        return result;
    }

    @Override
    public void close() {
        sampling = false;
        if (deviceSampler != null) {
            deviceSampler.interrupt();
        }
        if (registry != null) {
            registry.close();
        }
        super.close();
    }
}
