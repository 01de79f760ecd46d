package io.tern.local.region;

import io.tern.client.TernClient;
import io.tern.devstack.process.ProcessCluster;
import io.tern.devstack.process.RoleProcess;
import io.tern.local.chaos.PushStream;
import io.tern.local.chaos.Tally;
import io.tern.local.e2e.Devices;
import io.tern.store.topic.Topics;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Brokers in several regions, each role its own OS process ({@link ProcessCluster}), and thousands of SDK devices
 * in this JVM whose home regions are spread evenly over the regions (device i's home is region i mod n, named in
 * its dispatch request). What a region test needs on top: which broker each device is on, and where every
 * accepted message ended up ({@link Tally}).
 */
final class RegionPlatform implements AutoCloseable {
    static final String APP = "regions";
    static final String APP_KEY = "regions-key";
    static final String APP_SECRET = "regions-secret";
    static final Duration START = Duration.ofSeconds(120);
    /** Every accepted message reaches its (online) device within this once pushes stop. */
    static final Duration DELIVERY_BOUND = Duration.ofSeconds(60);
    private static final int WAVE = 500;

    final ProcessCluster cluster;
    final Devices devices;
    final PushStream api;
    final List<String> regions;
    final List<String> names;
    final Map<String, String> regIds = new HashMap<>();
    private final Map<String, String> homes = new LinkedHashMap<>();

    private RegionPlatform(ProcessCluster cluster, List<String> regions, int deviceCount) {
        this.cluster = cluster;
        this.regions = List.copyOf(regions);
        this.names = IntStream.range(0, deviceCount).mapToObj(i -> regions.get(i % regions.size()) + "-" + i).toList();
        this.devices = new Devices(new InetSocketAddress("127.0.0.1", cluster.dispatcher().port("http")), APP,
                APP + "-client-key", null);
        for (int i = 0; i < names.size(); i++) {
            String home = regions.get(i % regions.size());
            homes.put(names.get(i), home);
            devices.home(names.get(i), home);
        }
        this.api = new PushStream(cluster.logicUrls(), APP, APP_KEY, APP_SECRET);
    }

    /**
     * Starts the cluster (broker i in {@code regions[(i-1) % n]}), then every device (in paced waves, each
     * connected before the next), then signs the app server in.
     *
     * @param extra role settings on top of the app's keys
     */
    static RegionPlatform start(String test, List<String> regions, int brokers, int logicNodes, int schedulers,
                                int deviceCount, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(extra);
        s.put("logic.apps." + APP + ".key", APP_KEY);
        s.put("logic.apps." + APP + ".secret", APP_SECRET);
        s.put("logic.limits.apps." + APP + ".rate", "1000000");
        s.put("logic.limits.apps." + APP + ".daily-quota", "1000000000");
        s.put("dispatcher.client-keys", APP + "=" + APP + "-client-key");
        Path dir = Path.of("target", test, LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))
                .toAbsolutePath();
        ProcessCluster cluster = ProcessCluster.start(ProcessCluster.Options.of(dir, brokers, logicNodes, s,
                        List.of(Topics.ACKS, Topics.JOBS)).withRegions(regions, schedulers)
                .withMaxLifetime(Duration.ofMinutes(20)), System.out::println);
        RegionPlatform p;
        try {
            p = new RegionPlatform(cluster, regions, deviceCount);
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        try {
            long t0 = System.nanoTime();
            for (int from = 0; from < deviceCount; from += WAVE) {
                long w = System.nanoTime();
                p.devices.startAll(p.names.subList(from, Math.min(deviceCount, from + WAVE)));
                System.out.printf("[%s] devices %d..%d connected in %.1f s%n", test, from,
                        Math.min(deviceCount, from + WAVE) - 1, (System.nanoTime() - w) / 1e9);
            }
            // Connected devices are registered: their regId is there to read, no waiting.
            p.names.forEach(n -> p.regIds.put(n, Objects.requireNonNull(p.devices.client(n).regId(), n)));
            System.out.printf("[%s] %d devices registered and connected in %.1f s%n", test, deviceCount,
                    (System.nanoTime() - t0) / 1e9);
            p.api.login();
            return p;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    /** Device names whose home region is {@code region}. */
    List<String> homedIn(String region) {
        return names.stream().filter(n -> region.equals(homes.get(n))).toList();
    }

    String homeOf(String device) {
        return homes.get(device);
    }

    /** The TCP addresses (as the dispatcher lists them, host:port) of {@code region}'s brokers. */
    Set<Integer> tcpPortsOf(String region) {
        return Set.copyOf(cluster.brokersIn(region).stream().map(b -> b.port("tcp")).toList());
    }

    /** Connected, and to a broker of {@code region}. */
    boolean onBrokerOf(String device, String region) {
        TernClient c = devices.client(device);
        if (c == null || c.state() != TernClient.State.CONNECTED) {
            return false;
        }
        String at = c.connectedBroker();
        if (at == null) {
            return false;
        }
        int port = Integer.parseInt(at.substring(at.lastIndexOf(':') + 1));
        return tcpPortsOf(region).contains(port);
    }

    /** Where {@code devices} are: region of the broker each is connected to, or the SDK state of those that are not. */
    Map<String, Long> whereAre(List<String> devices) {
        Map<String, Long> out = new java.util.TreeMap<>();
        for (String d : devices) {
            String at = "not started";
            TernClient c = this.devices.client(d);
            if (c != null) {
                at = c.state().name();
                for (String r : regions) {
                    if (onBrokerOf(d, r)) {
                        at = r;
                    }
                }
            }
            out.merge(at, 1L, Long::sum);
        }
        return out;
    }

    /** What {@code devices}' SDKs went through and what every broker refused, for a failure message. */
    String diagnose(List<String> devices) {
        long[] n = new long[7];
        for (String d : devices) {
            TernClient c = this.devices.client(d);
            if (c != null) {
                var s = c.stats();
                n[0] += s.dispatches();
                n[1] += s.dispatchFailures();
                n[2] += s.connectAttempts();
                n[3] += s.connectFailures();
                n[4] += s.connects();
                n[5] += s.busyWaits();
                n[6] += s.reconnects();
            }
        }
        StringBuilder out = new StringBuilder(String.format("SDKs: %d dispatches (%d failed), %d connect attempts "
                + "(%d failed), %d sessions, %d busy waits, %d reconnects; brokers:", n[0], n[1], n[2], n[3], n[4], n[5], n[6]));
        for (RoleProcess b : cluster.brokers()) {
            out.append(" [").append(BrokerMetrics.series(b, "tern_broker_disconnects_total", "tern_broker_auth_failures_total",
                    "tern_broker_admissions_refused_total", "tern_broker_connections")).append(']');
        }
        return out.toString();
    }

    boolean online(String device) {
        TernClient c = devices.client(device);
        return c != null && c.state() == TernClient.State.CONNECTED;
    }

    /** Devices of {@code homeRegion} on a broker of {@code region} right now. */
    long countOn(List<String> devicesOfHome, String region) {
        return devicesOfHome.stream().filter(d -> onBrokerOf(d, region)).count();
    }

    /** Live sessions on {@code region}'s brokers, from their /metrics; -1 when one does not answer. */
    long sessionsIn(String region) {
        long sum = 0;
        for (RoleProcess b : cluster.brokersIn(region)) {
            var n = BrokerMetrics.sessions(b);
            if (n.isEmpty()) {
                return -1;
            }
            sum += (long) n.getAsDouble();
        }
        return sum;
    }

    /** PUSHes the SDKs dropped as already seen: copies the platform sent twice, caught before the app saw them. */
    long duplicatesDropped() {
        return names.stream().map(devices::client).filter(Objects::nonNull)
                .mapToLong(c -> c.stats().duplicatesDropped()).sum();
    }

    /** Copies the app got twice (same msgId) after the SDK's de-duplication. */
    long repeatsSeenByApp() {
        return Tally.repeats(devices, Set.copyOf(names));
    }

    /**
     * Waits up to {@link #DELIVERY_BOUND} for every accepted message to reach its device, then sorts each into
     * delivered, queued, expired, stranded or lost.
     *
     * @param since nanoTime of the event the run is about (recovery times are measured from it)
     */
    Tally settle(String label, List<PushStream.Accepted> accepted, long since, long duplicates) {
        try {
            Awaitility.await().atMost(DELIVERY_BOUND).pollInterval(Duration.ofMillis(250))
                    .until(() -> accepted.stream().allMatch(a -> received(a.device(), a.msgId())));
        } catch (ConditionTimeoutException e) {
            // counted below: what is missing is stranded, queued or lost
        }
        return Tally.of(label, accepted, "", List.of(), devices, this::online, Set.of(), api, since, duplicates, 0);
    }

    private boolean received(String device, long msgId) {
        return devices.receivedBy(device).stream().anyMatch(m -> m.msgId() == msgId);
    }

    @Override
    public void close() {
        devices.close();
        cluster.close();
    }
}
