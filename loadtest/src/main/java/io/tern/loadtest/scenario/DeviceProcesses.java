package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.loadtest.device.DeviceConfig;
import io.tern.loadtest.device.DeviceProcess;
import io.tern.loadtest.process.ChildIo;
import io.tern.loadtest.process.ChildProcess;
import io.tern.loadtest.stats.Histogram;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * The runner's side of the device processes: starts them (devices split evenly, each process on
 * its own source addresses {@code 127.0.<p>.2, .3, …}), sends them commands, and sums their
 * {@code stats} lines.
 */
final class DeviceProcesses implements AutoCloseable {
    /** Summed counters of every device process's latest {@code stats} line. */
    record Totals(long devices, long started, long connected, long everConnected, long connectFailures,
                  long dispatchFailures, long reconnects, long disconnects, long received, long duplicates,
                  long lastReceiptAt, long allConnectedAt, boolean allReported, long regionMoved) {
    }

    private final List<ChildProcess> procs = new ArrayList<>();
    private final int total;
    private final List<String> regions;

    private DeviceProcesses(int total, List<String> regions) {
        this.total = total;
        this.regions = List.copyOf(regions);
    }

    /**
     * @param name      label in process and file names, also the regId prefix: devices are {@code <name><p>-<i>}
     * @param deviceKey the dispatcher's device key (dev mode), from which each device derives its secret
     * @param regions   home regions, process p's devices in {@code regions[(p-1) % size]}; empty = the dispatcher's
     *                  default region for all
     */
    static DeviceProcesses start(String name, int devices, int processes, Options o, String dispatcherUrl,
                                 Path trustedCa, String appId, String deviceKey, Path runDir,
                                 long maxLifetimeSeconds, List<String> regions) {
        return start(name, devices, processes, o, runDir, maxLifetimeSeconds, regions, (d, p, count, addresses) ->
                new DeviceConfig(p, dispatcherUrl, appId, name + p + "-", count, addresses, o.clientThreads,
                        o.connectWindow, o.connectRate, dedup(o), o.statsEveryMs, deviceKey,
                        trustedCa == null ? null : trustedCa.toString(), d.region(p), null));
    }

    /** The pub/sub baseline's receivers: {@code subscribers} of the Redis at {@code redisHostPort}, as device processes. */
    static DeviceProcesses startSubscribers(String name, int subscribers, int processes, Options o, String redisHostPort,
                                            Path runDir, long maxLifetimeSeconds) {
        return start(name, subscribers, processes, o, runDir, maxLifetimeSeconds, List.of(), (d, p, count, addresses) ->
                new DeviceConfig(p, null, null, name + p + "-", count, addresses, o.clientThreads, o.connectWindow,
                        o.connectRate, dedup(o), o.statsEveryMs, null, null, null, redisHostPort));
    }

    /** Process p's config, given its receiver count and source addresses. */
    private interface ConfigOf {
        DeviceConfig of(DeviceProcesses d, int p, int count, List<String> addresses);
    }

    private static int dedup(Options o) {
        return Math.max(64, o.broadcasts + 16);
    }

    private static DeviceProcesses start(String name, int devices, int processes, Options o, Path runDir,
                                         long maxLifetimeSeconds, List<String> regions, ConfigOf configOf) {
        DeviceProcesses d = new DeviceProcesses(devices, regions);
        try {
            for (int p = 1; p <= processes; p++) {
                int count = devices / processes + (p <= devices % processes ? 1 : 0);
                int nAddresses = Math.max(1, (count + o.perAddress - 1) / o.perAddress);
                List<String> addresses = new ArrayList<>();
                for (int a = 0; a < nAddresses; a++) {
                    addresses.add("127.0." + p + "." + (2 + a));
                }
                DeviceConfig c = configOf.of(d, p, count, addresses);
                List<String> jvm = new ArrayList<>(o.clientJvmArgs());
                jvm.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
                // The process's devices share one HTTP client: after thousands re-dispatch at once (a region
                // move) its pool would keep thousands of idle connections, which the dispatcher closes beyond its
                // idle cap; reusing those stalled dispatches until their timeout. A real device has its own
                // client; here idle connections go after 2 s (JDK default 1,200 s).
                jvm.add("-Djdk.httpclient.keepalive.timeout=2");
                d.procs.add(ChildProcess.start(name + "-client-" + p, jvm, DeviceProcess.class.getName(),
                        List.of(ChildIo.JSON.writeValueAsString(c)), java.util.Map.of(),
                        runDir.resolve(name + "-client-" + p + ".log"), maxLifetimeSeconds));
            }
            for (ChildProcess c : d.procs) {
                c.await("hello", n -> true, Duration.ofSeconds(60));
            }
            return d;
        } catch (Exception e) {
            d.close();
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e.getMessage(), e);
        }
    }

    /** The regIds of process p (1-based) are {@code prefix(p) + i}, i in [0, count(p)). */
    static String prefix(String name, int p) {
        return name + p + "-";
    }

    /** The home region of process p's devices (1-based), or null for the dispatcher's default. */
    String region(int p) {
        return regions.isEmpty() ? null : regions.get((p - 1) % regions.size());
    }

    /** How many devices have {@code region} as their home. */
    int devicesOf(String region) {
        int n = 0;
        for (int p = 1; p <= procs.size(); p++) {
            if (region.equals(region(p))) {
                n += count(p);
            }
        }
        return n;
    }

    /** Sends a command line to every device process. */
    void send(String command) {
        procs.forEach(p -> p.send(command));
    }

    int processes() {
        return procs.size();
    }

    int devices() {
        return total;
    }

    int count(int p) {
        int n = procs.size();
        return total / n + (p <= total % n ? 1 : 0);
    }

    List<Long> pids() {
        return procs.stream().map(ChildProcess::pid).toList();
    }

    /**
     * Tells {@code listener} (process index from 0, broadcast number) each time a process's devices have received a
     * broadcast on all of its connected devices; called on the processes' reader threads.
     */
    void onBroadcastComplete(java.util.function.ObjLongConsumer<Integer> listener) {
        for (int i = 0; i < procs.size(); i++) {
            int p = i;
            procs.get(i).onLine("complete", n -> listener.accept(p, n.path("k").asLong()));
        }
    }

    void connect() {
        procs.forEach(p -> p.send("connect"));
    }

    Totals totals() {
        long devices = 0, started = 0, connected = 0, ever = 0, cf = 0, df = 0, rc = 0, dc = 0, rx = 0, dup = 0,
                last = 0, allAt = 0, moved = 0;
        boolean all = true;
        for (ChildProcess p : procs) {
            JsonNode s = p.latest("stats");
            if (s == null) {
                all = false;
                continue;
            }
            devices += s.path("devices").asLong();
            started += s.path("started").asLong();
            connected += s.path("connected").asLong();
            ever += s.path("everConnected").asLong();
            cf += s.path("connectFailures").asLong();
            df += s.path("dispatchFailures").asLong();
            rc += s.path("reconnects").asLong();
            dc += s.path("disconnects").asLong();
            rx += s.path("received").asLong();
            dup += s.path("duplicatesDropped").asLong();
            moved += s.path("regionMoved").asLong();
            last = Math.max(last, s.path("lastReceiptAt").asLong());
            long a = s.path("allConnectedAt").asLong();
            if (a == 0) {
                all = false;
            }
            allAt = Math.max(allAt, a);
        }
        return new Totals(devices, started, connected, ever, cf, df, rc, dc, rx, dup, last, all ? allAt : 0,
                all && procs.size() > 0, moved);
    }

    /**
     * Waits until the processes' latest {@code stats} lines sum to {@code want} receipts or {@code timeout} passed
     * (a drain: late deliveries, or a warm-up's).
     */
    void awaitReceived(long want, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (totals().received() < want && System.nanoTime() - end < 0) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    /** Asks every process for its {@code final} line (counts and histograms) and returns them. */
    List<JsonNode> finals(Duration timeout) throws TimeoutException {
        procs.forEach(p -> p.forget("final"));
        procs.forEach(p -> p.send("final"));
        List<JsonNode> out = new ArrayList<>();
        for (ChildProcess p : procs) {
            out.add(p.await("final", n -> true, timeout));
        }
        return out;
    }

    /** Broadcast {@code k}'s receipt latencies in every process's {@code final} line, merged (payload t → receipt). */
    static Histogram broadcastReceipts(List<JsonNode> finals, long k) {
        Histogram h = new Histogram();
        for (JsonNode f : finals) {
            JsonNode encoded = f.path("broadcasts").get(Long.toString(k));
            if (encoded != null) {
                h.add(Histogram.decode(encoded.asText()));
            }
        }
        return h;
    }

    /** The latest receipt (epoch µs) in the {@code final} lines, 0 for none. */
    static long lastReceiptAt(List<JsonNode> finals) {
        long last = 0;
        for (JsonNode f : finals) {
            last = Math.max(last, f.path("lastReceiptAt").asLong());
        }
        return last;
    }

    /** Makes every process forget what its devices received so far, and waits for them to confirm. */
    void resetReceipts(Duration timeout) throws TimeoutException {
        procs.forEach(p -> p.forget("reset"));
        procs.forEach(p -> p.send("reset"));
        for (ChildProcess p : procs) {
            p.await("reset", n -> true, timeout);
        }
        // The next stats line of each process counts from zero.
        procs.forEach(p -> p.forget("stats"));
        for (ChildProcess p : procs) {
            p.await("stats", n -> true, timeout);
        }
    }

    /** Closes every device (DISCONNECT OK) and waits for the processes to confirm. */
    void closeDevices(Duration timeout) {
        procs.forEach(p -> p.forget("closed"));
        procs.forEach(p -> p.send("close"));
        for (ChildProcess p : procs) {
            try {
                p.await("closed", n -> true, timeout);
            } catch (TimeoutException | RuntimeException e) {
                System.err.println(p.name() + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        procs.parallelStream().forEach(p -> p.stop(Duration.ofSeconds(5)));
    }
}
