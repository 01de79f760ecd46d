package io.tern.loadtest.scenario;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command-line flags of a scenario run: {@code <scenario> [--flag value]... [--profile]}. Every
 * flag has a default fit for this 2-core machine; {@link #usage()} lists them.
 */
public final class Options {
    /** Most devices one process holds: a process may have 20,000 open files here, and needs some for itself. */
    public static final int MAX_DEVICES_PER_PROCESS = 18_000;

    public final String scenario;
    public int devices;
    public int seconds;
    public int brokers = 1;
    /** Device processes; 0 = enough for {@link #MAX_DEVICES_PER_PROCESS} each. */
    public int clients;
    public int clientThreads = 1;
    /** Devices between start and first CONNACK, per device process. */
    public int connectWindow = 256;
    /** Devices started per second per process; 0 = only the window paces. */
    public int connectRate;
    public int connectTimeout = 180;
    /** Connections per source address (each address has ~28,000 ephemeral ports). */
    public int perAddress = 8_000;
    public int warmup = 1_000;
    public int rate = 10_000;
    /** single: seconds of pushes at the same rate before the measured run (JIT warm-up), not counted. */
    public int warmupSeconds = 5;
    public int apiConnections = 64;
    public int broadcasts = 10;
    /** broadcast: all-pushes before the measured ones (JIT warm-up), not counted. */
    public int warmupBroadcasts = 3;
    public int intervalMs = 1_000;
    /** broadcast: at most this many all-pushes not yet received everywhere; 0 = no bound (only --interval-ms paces). */
    public int inFlight;
    /** broadcast --in-flight: an all-push not received everywhere after this long stops holding its slot (counted). */
    public int inFlightTimeoutSeconds = 30;
    /** broadcast: after the last receipt, how long to wait for the tasks' delivered counts to reach the receipts. */
    public int countWaitSeconds = 30;
    public int drainSeconds = 10;
    public int progressSeconds = 2;
    public int ttlSeconds = 600;
    public boolean profile;
    /** Devices over TLS (dispatcher HTTPS, brokers' device ports TLS-only), logic-node links over mutual TLS. */
    public boolean tls;
    public boolean measureAfterClose = true;
    /** The device processes' JVM flags unless {@code --client-jvm-opts} says otherwise. */
    public static final String CLIENT_JVM_OPTS = "-Xms256m -Xmx1g -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError";
    public String clientJvmOpts = CLIENT_JVM_OPTS;
    public String brokerJvmOpts = "";
    public final Map<String, String> set = new LinkedHashMap<>();
    public Path runDir;
    /** chaos: the process killed (broker, logic, redis, kafka, dispatcher). */
    public String kill;
    /** failover, region-death: single pushes per second throughout (--rate is the move rate there). */
    public int pushRate = 100;
    /** failover, region-death: regions (north, south, east, west, central, r6, …), devices' homes spread evenly. */
    public int regions = 3;
    public int brokersPerRegion = 1;
    /** How often each device process reports its counters. */
    public int statsEveryMs = 1_000;
    /** burst: C, the brokers' summed capacity in deliveries/s (split evenly over --brokers). */
    public int capacity = 200;
    /** redis-outage: how long Redis stays killed (--outage-seconds; --quick makes it 15). */
    public int outageSeconds = 60;
    /** burst: whether --rate was given (else 10 x C). */
    private boolean rateGiven;

    private Options(String scenario) {
        this.scenario = scenario;
        switch (scenario) {
            case "hold" -> {
                devices = 19_000;
                seconds = 30;
            }
            case "single" -> {
                devices = 2_000;
                seconds = 20;
            }
            case "broadcast", "pubsub" -> {
                devices = 10_000;
                seconds = 0;
            }
            case "chaos" -> {
                devices = 10_000;
                seconds = 30;
                rate = 200;
                brokers = 2;
                drainSeconds = 60;
            }
            case "burst" -> {
                devices = 1_000;
                seconds = 20;
                brokers = 2;
                drainSeconds = 900;
            }
            case "redis-outage" -> {
                devices = 2_000;
                seconds = 20; // before and after the outage each
                rate = 200;
                brokers = 2;
                drainSeconds = 120;
            }
            case "failover", "region-death" -> {
                devices = 20_000;
                seconds = 0;
                rate = 500;
                drainSeconds = 60;
                statsEveryMs = 250;
                connectTimeout = 300;
            }
            default -> throw new IllegalArgumentException("unknown scenario '" + scenario + "'\n" + usage());
        }
    }

    public static Options parse(String... args) {
        if (args.length == 0) {
            throw new IllegalArgumentException(usage());
        }
        Options o = new Options(args[0]);
        List<String> rest = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        for (int i = 0; i < rest.size(); i++) {
            String flag = rest.get(i);
            if (flag.equals("--profile")) {
                o.profile = true;
                continue;
            }
            if (flag.equals("--quick")) {
                o.outageSeconds = 15;
                o.seconds = 10;
                continue;
            }
            if (flag.equals("--tls")) {
                o.tls = true;
                continue;
            }
            if (flag.equals("--no-after-close")) {
                o.measureAfterClose = false;
                continue;
            }
            if (!flag.startsWith("--") || i + 1 >= rest.size()) {
                throw new IllegalArgumentException("expected --flag value, got '" + flag + "'\n" + usage());
            }
            String v = rest.get(++i);
            switch (flag) {
                case "--devices" -> o.devices = positive(flag, v, 0);
                case "--seconds" -> o.seconds = positive(flag, v, 0);
                case "--brokers" -> o.brokers = positive(flag, v, 1);
                case "--clients" -> o.clients = positive(flag, v, 0);
                case "--client-threads" -> o.clientThreads = positive(flag, v, 1);
                case "--connect-window" -> o.connectWindow = positive(flag, v, 1);
                case "--connect-rate" -> o.connectRate = positive(flag, v, 0);
                case "--connect-timeout" -> o.connectTimeout = positive(flag, v, 1);
                case "--per-address" -> o.perAddress = positive(flag, v, 1);
                case "--warmup" -> o.warmup = positive(flag, v, 0);
                case "--rate" -> {
                    o.rate = positive(flag, v, 1);
                    o.rateGiven = true;
                }
                case "--capacity" -> o.capacity = positive(flag, v, 1);
                case "--warmup-seconds" -> o.warmupSeconds = positive(flag, v, 0);
                case "--api-connections" -> o.apiConnections = positive(flag, v, 1);
                case "--broadcasts" -> o.broadcasts = positive(flag, v, 1);
                case "--warmup-broadcasts" -> o.warmupBroadcasts = positive(flag, v, 0);
                case "--interval-ms" -> o.intervalMs = positive(flag, v, 0);
                case "--in-flight" -> o.inFlight = positive(flag, v, 0);
                case "--in-flight-timeout-seconds" -> o.inFlightTimeoutSeconds = positive(flag, v, 1);
                case "--count-wait-seconds" -> o.countWaitSeconds = positive(flag, v, 0);
                case "--drain-seconds" -> o.drainSeconds = positive(flag, v, 0);
                case "--outage-seconds" -> o.outageSeconds = positive(flag, v, 1);
                case "--progress-seconds" -> o.progressSeconds = positive(flag, v, 1);
                case "--ttl-seconds" -> o.ttlSeconds = positive(flag, v, 1);
                case "--push-rate" -> o.pushRate = positive(flag, v, 1);
                case "--regions" -> o.regions = positive(flag, v, 2);
                case "--brokers-per-region" -> o.brokersPerRegion = positive(flag, v, 1);
                case "--stats-ms" -> o.statsEveryMs = positive(flag, v, 50);
                case "--client-jvm-opts" -> o.clientJvmOpts = v;
                case "--broker-jvm-opts" -> o.brokerJvmOpts = v;
                case "--run-dir" -> o.runDir = Path.of(v);
                case "--kill" -> {
                    if (!ChaosScenario.FAULTS.contains(v)) {
                        throw new IllegalArgumentException("--kill wants one of " + ChaosScenario.FAULTS + ", got '" + v + "'");
                    }
                    o.kill = v;
                }
                case "--set" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--set wants key=value, got '" + v + "'");
                    }
                    o.set.put(v.substring(0, eq).trim(), v.substring(eq + 1).trim());
                }
                default -> throw new IllegalArgumentException("unknown flag " + flag + "\n" + usage());
            }
        }
        if (o.clients == 0) {
            o.clients = Math.max(1, (o.devices + MAX_DEVICES_PER_PROCESS - 1) / MAX_DEVICES_PER_PROCESS);
        }
        if (o.regional()) {
            // Each device process is one region's devices: a multiple of the regions, homes spread evenly.
            o.clients = (o.clients + o.regions - 1) / o.regions * o.regions;
            o.brokers = o.regions * o.brokersPerRegion;
        }
        if ((o.devices + o.clients - 1) / o.clients > MAX_DEVICES_PER_PROCESS) {
            throw new IllegalArgumentException("--clients " + o.clients + " would put more than "
                    + MAX_DEVICES_PER_PROCESS + " devices in one process (20,000 open files per process here)");
        }
        if (o.clients > 250) {
            throw new IllegalArgumentException("--clients must be at most 250");
        }
        if (o.runDir == null) {
            o.runDir = Path.of(System.getProperty("java.io.tmpdir"), "tern-loadtest",
                    o.scenario + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        if (o.scenario.equals("burst") && !o.rateGiven) {
            o.rate = 10 * o.capacity;
        }
        if (o.scenario.equals("chaos") && o.kill == null) {
            throw new IllegalArgumentException("chaos needs --kill " + String.join("|", ChaosScenario.FAULTS));
        }
        if ((o.scenario.equals("broadcast") || o.scenario.equals("pubsub")) && o.broadcasts > 1_000) {
            throw new IllegalArgumentException("--broadcasts must be at most 1000");
        }
        return o;
    }

    /** Scenarios that spread brokers and devices over regions and run global schedulers. */
    public boolean regional() {
        return scenario.equals("failover") || scenario.equals("region-death");
    }

    /** The region names of a regional run: north, south, east, west, central, then r6, r7, …. */
    public List<String> regionNames() {
        List<String> names = new ArrayList<>();
        List<String> first = List.of("north", "south", "east", "west", "central");
        for (int i = 0; i < regions; i++) {
            names.add(i < first.size() ? first.get(i) : "r" + (i + 1));
        }
        return names;
    }

    private static int positive(String flag, String v, int min) {
        try {
            int n = Integer.parseInt(v.replace("_", "").replace(",", ""));
            if (n < min) {
                throw new IllegalArgumentException(flag + " must be at least " + min + ", got " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " wants an integer, got '" + v + "'");
        }
    }

    public List<String> clientJvmArgs() {
        return split(clientJvmOpts);
    }

    public List<String> brokerJvmArgs() {
        return split(brokerJvmOpts);
    }

    private static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        for (String p : s.trim().split("\\s+")) {
            if (!p.isEmpty()) {
                out.add(p);
            }
        }
        return out;
    }

    public static String usage() {
        return """
                usage: loadtest/run <hold|single|broadcast|pubsub|chaos|burst|failover|region-death|redis-outage> [flags]

                  common
                    --devices N            simulated devices (hold 19000, single 2000, broadcast 10000)
                    --brokers N            broker processes (1)
                    --clients N            device processes (devices / 18000, rounded up)
                    --client-threads N     event loop threads per device process (1)
                    --connect-window N     devices between start and CONNACK per device process (256)
                    --connect-rate N       devices started per second per process, 0 = window only (0)
                    --connect-timeout S    give up waiting for every device after S seconds (180)
                    --per-address N        device connections per source address 127.0.p.x (8000)
                    --drain-seconds S      wait for late deliveries this long (10)
                    --progress-seconds S   progress line period (2)
                    --stats-ms M           device process counter period (1000; failover, region-death 250)
                    --set key=value        any role setting: broker.* (env of broker processes), dispatcher.*, logic.*
                    --client-jvm-opts "…"  device process JVM flags (-Xms256m -Xmx1g -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError)
                    --broker-jvm-opts "…"  extra broker JVM flags, after -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
                    --tls                  TLS everywhere devices and links connect (dev CA in the run directory;
                                           brokers and dispatcher refuse plain); the push API stays plain
                    --profile              JFR on brokers, platform and clients during the measured phase; hot methods in the report
                    --run-dir DIR          logs, JFR files, histograms ($TMPDIR/tern-loadtest/<scenario>-<time>)
                  hold
                    --seconds T            hold time after the last device connected (30)
                    --warmup N             devices connected and closed before the baseline measurement (1000)
                    --no-after-close       skip the RSS measurement after every device closed
                  single
                    --rate R               single pushes per second (10000)
                    --seconds T            sending time (20)
                    --warmup-seconds W     pushes at the same rate before the measured run, not counted (5)
                    --api-connections N    HTTP/1.1 keep-alive connections of the generator (64)
                    --ttl-seconds S        message TTL (600)
                  broadcast
                    --broadcasts M         all-pushes (10)
                    --interval-ms I        between all-push calls, 0 = back to back (1000)
                    --warmup-broadcasts W  all-pushes before the measured ones, not counted (3)
                    --in-flight N          at most N all-pushes outstanding (call → received on every connected
                                           device); the next call when one is; 0 = no bound (0)
                    --in-flight-timeout-seconds S
                                           an outstanding all-push frees its slot after S s, counted as timed out (30)
                    --count-wait-seconds S after the last receipt, wait up to S s for the tasks' delivered counts to
                                           reach the receipts (count lag, CPU to the last counted ack); 0 = skip (30)
                  pubsub (the baseline for broadcast: Redis pub/sub, no platform; --devices subscribers in the device
                  processes, one PUBLISH of 100 bytes per broadcast from the runner)
                    --broadcasts, --interval-ms, --warmup-broadcasts, --in-flight, --in-flight-timeout-seconds as broadcast
                  redis-outage (every role, Redis, Kafka, the disk KV and a disk-KV backup as processes; --devices 2000,
                               --brokers 2)
                    --outage-seconds S     Redis SIGKILLed for S s (60), then restarted on its AOF
                    --seconds T            single pushes before and after the outage, T s each (20)
                    --rate R               single pushes per second throughout (200); a group push (list of 100 or
                                           all, alternating) every 2 s of existing tasks
                    --quick                --outage-seconds 15 --seconds 10
                  chaos (every role, Redis and Kafka as its own process; --devices 10000, --brokers 2)
                    --kill P               broker|logic|redis|kafka|dispatcher: SIGKILLed a third of the way in,
                                           restarted 5 s later (a broker is not)
                    --rate R, --seconds T  single pushes per second (200) for T s (30)
                    --drain-seconds S      how long delivery may take after the stream (60)
                  burst (every part its own process, with 2 rate controllers and 2 bypass consumers; --devices 1000,
                  --brokers 2): single pushes far beyond the brokers' capacity; accepted/s, downstream against C, buffer lag
                  over time, drain time, loss
                    --capacity C           the brokers' summed capacity, deliveries/s (200; broker.capacity = C / brokers)
                    --rate R, --seconds T  single pushes per second (10 x C) for T s (20)
                    --drain-seconds S      how long the drain may take after the burst (900)
                  failover, region-death (every part its own process; brokers over regions, 2 global schedulers;
                  --devices 20000, homes spread evenly, single pushes throughout)
                    --regions N            regions north, south, east, … (3)
                    --brokers-per-region N broker processes per region (1)
                    --push-rate R          single pushes per second during the whole run (100)
                    --drain-seconds S      how long delivery may take after the stream (60)
                  failover: fails the first region over to the second at --rate, waits, fails it back
                    --rate R               move rate, devices per second (500)
                  region-death: SIGKILLs every broker of the first region; devices fall back by themselves
                """;
    }
}
