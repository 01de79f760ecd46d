package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.chart.Charts;
import io.tern.loadtest.platform.BrokerProcess;
import io.tern.loadtest.platform.Platform;
import io.tern.loadtest.process.ChildIo;
import io.tern.loadtest.process.Jcmd;
import io.tern.loadtest.profile.HotMethods;
import io.tern.loadtest.stats.CpuMeter;
import io.tern.loadtest.stats.Sampler;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What every scenario shares: the platform, device processes, progress lines, CPU accounting per
 * process group, and optional JFR profiling of the measured phase.
 */
public abstract class Scenario implements AutoCloseable {
    /** The exit status of a run whose measurement could not be made (e.g. the API is missing). */
    public static final int NOT_AVAILABLE = 3;

    protected final Options o;
    protected final PrintStream out;
    private final long t0 = System.nanoTime();
    protected Platform platform;
    // Read by the sampler's thread too.
    protected final List<DeviceProcesses> deviceGroups = new CopyOnWriteArrayList<>();
    private final Set<Long> otherClientPids = ConcurrentHashMap.newKeySet();
    private Sampler sampler;
    private final List<long[]> profiled = new ArrayList<>();
    private final List<Map<String, Long>> threadsAtStart = new ArrayList<>();
    private long profileStartNanos;
    private final List<String> profiledNames = new ArrayList<>();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    protected Scenario(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    public static Scenario of(Options o, PrintStream out) {
        return switch (o.scenario) {
            case "hold" -> new HoldScenario(o, out);
            case "single" -> new SingleScenario(o, out);
            case "broadcast" -> new BroadcastScenario(o, out);
            case "pubsub" -> new PubSubScenario(o, out);
            case "chaos" -> new ChaosScenario(o, out);
            case "burst" -> new BurstScenario(o, out);
            case "failover" -> new FailoverScenario(o, out);
            case "region-death" -> new RegionDeathScenario(o, out);
            case "redis-outage" -> new RedisOutageScenario(o, out);
            default -> throw new IllegalArgumentException("unknown scenario " + o.scenario);
        };
    }

    /** Runs the scenario, printing progress, the table and the JSON line; returns the exit status. */
    public abstract int run() throws Exception;

    /** The JSON line of the finished run (for tests). */
    public abstract ObjectNode result();

    protected void say(String msg) {
        out.printf("[%s %6.1fs] %s%n", o.scenario, (System.nanoTime() - t0) / 1e9, msg);
        out.flush();
    }

    protected long maxLifetimeSeconds() {
        return 600L + o.connectTimeout + o.seconds + o.drainSeconds + (long) o.broadcasts * o.intervalMs / 1000;
    }

    protected void startPlatform() throws IOException {
        Files.createDirectories(o.runDir);
        say("run directory " + o.runDir + " (logs" + (o.profile ? ", JFR recordings" : "") + ")");
        List<String> brokerJvm = new ArrayList<>(Platform.BROKER_JVM_FLAGS);
        brokerJvm.addAll(o.brokerJvmArgs());
        platform = Platform.start(new Platform.Options(o.brokers, o.set, brokerJvm, o.runDir,
                Duration.ofSeconds(maxLifetimeSeconds()), o.tls), this::say);
        startSampler();
    }

    /** Samples the run once a second for its charts, from now until {@link #finish}. */
    protected void startSampler() {
        sampler = new Sampler(this::sampledGroups, this::receivedSoFar, this::brokerConnectionsNow, connectionsHeldBy());
    }

    /** Who holds the device connections {@link #brokerConnectionsNow} counts: the charts' series name. */
    protected String connectionsHeldBy() {
        return "brokers";
    }

    /** Process groups for the charts: the load clients, then this scenario's platform processes. */
    protected Map<String, List<Long>> sampledGroups() {
        Map<String, List<Long>> g = new LinkedHashMap<>();
        g.put("clients", clientPids());
        g.put("brokers", brokerPids());
        g.put("platform", List.of(ProcessHandle.current().pid()));
        g.put("redis", List.of(platform.redisPid()));
        return g;
    }

    /** Device processes and the single-push generator, if any. */
    protected List<Long> clientPids() {
        List<Long> pids = new ArrayList<>();
        deviceGroups.forEach(d -> pids.addAll(d.pids()));
        pids.addAll(otherClientPids);
        return pids;
    }

    /** Counts {@code pid} (e.g. the single-push generator) as a load client in the charts. */
    protected void watchClient(long pid) {
        otherClientPids.add(pid);
    }

    private long receivedSoFar() {
        if (deviceGroups.isEmpty()) {
            return -1;
        }
        long n = 0;
        for (DeviceProcesses d : deviceGroups) {
            n += d.totals().received();
        }
        return n;
    }

    /** Device connections the brokers hold (their /metrics), -1 when a broker did not answer. */
    protected long brokerConnectionsNow() {
        long n = 0;
        for (BrokerProcess b : platform.brokers()) {
            int c = b.connections();
            if (c < 0) {
                return -1;
            }
            n += c;
        }
        return n;
    }

    /**
     * Ends the run's report: the sampled timeline into its JSON, the JSON into {@code <run dir>/result.json}
     * and the charts beside it (a chart that cannot be drawn is a note, not a failed run), then prints it.
     */
    protected void finish(Report report) {
        if (sampler != null) {
            // cores: where the CPU chart marks "all of the machine".
            report.json.set("timeline", sampler.stop().toJson().put("cores", Runtime.getRuntime().availableProcessors()));
            if (!sampler.failures().isEmpty()) {
                report.note("timeline: " + sampler.failures());
            }
        }
        try {
            Files.createDirectories(o.runDir);
            Path json = o.runDir.resolve("result.json");
            Files.writeString(json, ChildIo.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report.json));
            Charts.Result charts = Charts.write(report.json, o.runDir);
            report.note("result " + json + "; charts " + (charts.written().isEmpty() ? "none"
                    : String.join(", ", charts.written().stream().map(p -> p.getFileName().toString()).toList())));
            charts.notes().forEach(n -> report.note("  " + n));
        } catch (IOException | RuntimeException | LinkageError e) { // LinkageError: a JDK without AWT's native parts
            report.note("result.json / charts not written: " + e);
        }
        report.print(out);
    }

    protected DeviceProcesses startDevices(String name, int devices, int processes) {
        long t = System.nanoTime();
        DeviceProcesses d = DeviceProcesses.start(name, devices, processes, o, platform.dispatcherUrl(),
                platform.trustedCa(), Platform.APP_ID, platform.deviceKey(), o.runDir, maxLifetimeSeconds(), List.of());
        deviceGroups.add(d);
        say(String.format("%d device process(es) up for %,d devices, pids %s (%.1f s)", processes, devices,
                d.pids(), (System.nanoTime() - t) / 1e9));
        return d;
    }

    protected List<Long> brokerPids() {
        return platform.brokers().stream().map(BrokerProcess::pid).toList();
    }

    /** Group "clients" = the given load-client pids; then brokers, platform (this JVM), redis. */
    protected CpuMeter cpuMeter(List<Long> clientPids) {
        return new CpuMeter()
                .group(CpuMeter.CLIENTS, clientPids)
                .group("brokers", brokerPids())
                .group("platform", List.of(ProcessHandle.current().pid()))
                .group("redis", List.of(platform.redisPid()));
    }

    /** Result of waiting for a fleet's devices to connect. */
    protected record Connected(long connected, double seconds, double perSecond, DeviceProcesses.Totals totals,
                               Map<String, Double> cpu) {
    }

    /** Sends {@code connect} and prints progress until every device connected once or the timeout passes. */
    protected Connected connectAll(DeviceProcesses d, CpuMeter cpu) {
        CpuMeter.Snapshot c0 = cpu.snapshot();
        long start = System.nanoTime();
        d.connect();
        long lastPrint = start;
        long lastCount = 0;
        long deadline = start + Duration.ofSeconds(o.connectTimeout).toNanos();
        DeviceProcesses.Totals t;
        while (true) {
            sleep(100);
            t = d.totals();
            long now = System.nanoTime();
            boolean done = t.everConnected() >= d.devices();
            if (done || now - lastPrint >= o.progressSeconds * 1_000_000_000L || now > deadline) {
                double dt = (now - lastPrint) / 1e9;
                say(String.format("connect: %,d/%,d connected (+%,.0f/s), %,d connect failures, %,d dispatch failures, "
                                + "%,d reconnects | %s | cpu %s", t.everConnected(), d.devices(),
                        (t.everConnected() - lastCount) / Math.max(dt, 1e-3), t.connectFailures(), t.dispatchFailures(),
                        t.reconnects(), brokerConnections(), CpuMeter.describe(cpu.snapshot().percentSince(c0))));
                lastPrint = now;
                lastCount = t.everConnected();
            }
            if (done) {
                break;
            }
            if (now > deadline) {
                say("connect timeout: " + (d.devices() - t.everConnected()) + " devices never connected");
                break;
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        Map<String, Double> pct = cpu.snapshot().percentSince(c0);
        return new Connected(t.everConnected(), secs, t.everConnected() / secs, t, pct);
    }

    /** The devices a traffic scenario pushes to, and how their connecting went. */
    protected record ConnectedFleet(DeviceProcesses devices, Connected connected) {
    }

    /** Starts the platform and {@code o.devices} devices, and waits until they are connected. */
    protected ConnectedFleet startConnectedFleet() throws IOException {
        startPlatform();
        DeviceProcesses devices = startDevices("d", o.devices, o.clients);
        Connected c = connectAll(devices, cpuMeter(devices.pids()));
        say(String.format("%,d of %,d devices connected in %.1f s", c.connected(), o.devices, c.seconds()));
        // Routes are written right after CONNACK, asynchronously: give the last ones a moment.
        sleep(1000);
        return new ConnectedFleet(devices, c);
    }

    /** "b1 9,500 · b2 9,500" from each broker's /metrics. */
    protected String brokerConnections() {
        StringBuilder sb = new StringBuilder("brokers");
        for (BrokerProcess b : platform.brokers()) {
            sb.append(' ').append(b.id()).append(' ').append(String.format("%,d", b.connections()));
        }
        return sb.toString();
    }

    protected static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Starts watching the named processes for the measured phase: CPU per thread (from
     * /proc/&lt;pid&gt;/task, always) and, with --profile, a JFR recording (settings=profile).
     */
    protected void profileStart(Map<String, Long> processes) {
        processes.forEach((name, pid) -> {
            profiled.add(new long[]{pid});
            profiledNames.add(name);
            threadsAtStart.add(io.tern.loadtest.process.ProcStat.threadTicks(pid));
            if (o.profile) {
                try {
                    Jcmd.jfrStart(pid, "loadtest");
                } catch (RuntimeException e) {
                    say("JFR start on " + name + " failed: " + e.getMessage());
                }
            }
        });
        profileStartNanos = System.nanoTime();
        if (o.profile) {
            say("JFR recording on " + profiledNames + " (JFR's own start-up costs CPU: figures of a profiled run "
                    + "are lower than those of a plain one)");
        }
    }

    /**
     * Ends the measured phase's watch: thread CPU per process into the report (the busiest threads)
     * and, with --profile, the JFR recordings written to the run directory and summarised.
     */
    protected void profileStop(Report report) {
        if (profiled.isEmpty()) {
            return;
        }
        ArrayNode arr = report.json.putArray("threadCpu");
        double wall = (System.nanoTime() - profileStartNanos) / 1e9;
        StringBuilder threadText = new StringBuilder(String.format(
                "busiest threads over the measured %.1f s (/proc/<pid>/task; percent of one core; kernel thread names "
                        + "are cut at 15 characters, digits shown as N):", wall));
        for (int i = 0; i < profiled.size(); i++) {
            String name = profiledNames.get(i);
            long pid = profiled.get(i)[0];
            Map<String, Long> t1 = io.tern.loadtest.process.ProcStat.threadTicks(pid);
            Map<String, Long> t0 = threadsAtStart.get(i);
            List<Map.Entry<String, Long>> busy = new ArrayList<>();
            t1.forEach((t, ticks) -> busy.add(Map.entry(t, ticks - t0.getOrDefault(t, 0L))));
            busy.sort(Map.Entry.<String, Long>comparingByValue().reversed());
            ObjectNode p = arr.addObject();
            p.put("process", name);
            Map<String, Long> delta = new LinkedHashMap<>();
            busy.forEach(e -> delta.put(e.getKey(), e.getValue()));
            ObjectNode rj = p.putObject("roles");
            threadText.append(String.format("%n  %-10s by role:", name));
            io.tern.loadtest.process.ThreadRoles.byRole(delta).forEach((role, ticks) -> {
                double pct = 100.0 * ticks / io.tern.loadtest.process.ProcStat.TICKS_PER_SECOND / wall;
                rj.put(role, Math.round(pct * 10) / 10.0);
                if (pct >= 0.5) {
                    threadText.append(String.format(" %s %.0f%%,", role, pct));
                }
            });
            ObjectNode tj = p.putObject("threads");
            threadText.append(String.format("%n  %-10s busiest:", ""));
            int shown = 0;
            for (Map.Entry<String, Long> e : busy) {
                double pct = 100.0 * e.getValue() / io.tern.loadtest.process.ProcStat.TICKS_PER_SECOND / wall;
                if (pct >= 1.0 && shown < 8) {
                    threadText.append(String.format(" %s %.0f%%,", e.getKey(), pct));
                    tj.put(e.getKey(), Math.round(pct * 10) / 10.0);
                    shown++;
                }
            }
            if (!o.profile) {
                continue;
            }
            Path file = o.runDir.resolve(name + ".jfr");
            try {
                Jcmd.jfrStop(pid, "loadtest", file);
                HotMethods.Summary s = HotMethods.summarize(file);
                Files.writeString(o.runDir.resolve(name + "-hot-methods.txt"), s.render(name, 60));
                report.note(s.render("profile of " + name + " (" + file + ")", 12));
                p.put("jfr", file.toString());
                p.put("samples", s.samples());
                ObjectNode top = p.putObject("topFrames");
                s.topFrames().stream().limit(10).forEach(e -> top.put(e.getKey(), e.getValue()));
                ObjectNode own = p.putObject("ownFrames");
                s.ownFrames().stream().limit(10).forEach(e -> own.put(e.getKey(), e.getValue()));
                ObjectNode threads = p.putObject("jfrThreads");
                s.threads().stream().limit(10).forEach(e -> threads.put(e.getKey(), e.getValue()));
            } catch (IOException | RuntimeException e) {
                report.note("profile of " + name + " failed: " + e.getMessage());
            }
        }
        report.note(threadText.toString());
        profiled.clear();
        profiledNames.clear();
        threadsAtStart.clear();
    }

    /** {@code processes} then the device processes as {@code client-1}, {@code client-2}, …, for profiling. */
    protected static Map<String, Long> withClients(Map<String, Long> processes, List<Long> clientPids) {
        Map<String, Long> m = new LinkedHashMap<>(processes);
        for (int i = 0; i < clientPids.size(); i++) {
            m.put("client-" + (i + 1), clientPids.get(i));
        }
        return m;
    }

    /** Broker processes by name → pid, plus the platform JVM, for profiling. */
    protected Map<String, Long> platformProcesses() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (BrokerProcess b : platform.brokers()) {
            m.put("broker-" + b.id(), b.pid());
        }
        m.put("platform", ProcessHandle.current().pid());
        return m;
    }

    protected static ObjectNode cpuJson(ObjectNode parent, String field, Map<String, Double> pct) {
        ObjectNode n = parent.putObject(field);
        pct.forEach(n::put);
        return n;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (sampler != null) {
            sampler.close();
        }
        for (DeviceProcesses d : deviceGroups) {
            d.close();
        }
        if (platform != null) {
            platform.close();
        }
    }
}
