package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.platform.BrokerProcess;
import io.tern.loadtest.process.Jcmd;
import io.tern.loadtest.process.ProcStat;
import io.tern.loadtest.stats.CpuMeter;

import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code hold}: N devices connect through the dispatcher and stay connected T seconds. Reports the
 * connect rate, and per broker the resident memory and the live heap per connection: (value with
 * N connected − value with none) / connections, both taken after a full GC ({@code jcmd GC.run};
 * the class histogram runs its own full GC).
 */
final class HoldScenario extends Scenario {
    private static final long KIB = 1024;
    private ObjectNode result;

    HoldScenario(Options o, PrintStream out) {
        super(o, out);
    }

    /** Memory of one broker at one moment. */
    private record Mem(long rssKiB, long heapBytes, int connections, long heapCommittedKiB, Map<String, Long> nmt) {
    }

    private Mem measure(BrokerProcess b) {
        long heap = Jcmd.liveHeapBytes(b.pid());
        Jcmd.fullGc(b.pid());
        sleep(300);
        long rss = ProcStat.read(b.pid()).rssKiB();
        long committed = Jcmd.heapCommittedUsedKiB(b.pid())[0];
        Map<String, Long> nmt = Jcmd.nativeMemoryCommittedKiB(b.pid());
        return new Mem(rss, heap, b.connections(), committed, nmt);
    }

    @Override
    public int run() throws Exception {
        startPlatform();
        List<BrokerProcess> brokers = platform.brokers();

        if (o.warmup > 0) {
            DeviceProcesses warm = startDevices("w", o.warmup, 1);
            Connected w = connectAll(warm, cpuMeter(warm.pids()));
            warm.closeDevices(Duration.ofSeconds(30));
            warm.close();
            deviceGroups.remove(warm);
            awaitBrokersEmpty(Duration.ofSeconds(30));
            say(String.format("warm-up: %,d devices connected and closed (%.0f/s)", w.connected(), w.perSecond()));
        }

        Map<String, Mem> base = new LinkedHashMap<>();
        for (BrokerProcess b : brokers) {
            base.put(b.id(), measure(b));
        }
        say("baseline after full GC: " + describe(base));

        DeviceProcesses devices = startDevices("d", o.devices, o.clients);
        CpuMeter cpu = cpuMeter(devices.pids());
        Map<String, Long> profiledProcs = new LinkedHashMap<>(platformProcesses());
        for (int i = 0; i < devices.pids().size(); i++) {
            profiledProcs.put("client-" + (i + 1), devices.pids().get(i));
        }
        Report report = new Report(String.format("hold: %,d devices, %d broker(s), %d device process(es)",
                o.devices, o.brokers, o.clients), "hold");
        profileStart(profiledProcs);
        Connected c = connectAll(devices, cpu);
        profileStop(report); // the connect storm is the busy part of this scenario
        say(String.format("%,d of %,d devices connected in %.1f s: %,.0f connections/s", c.connected(), o.devices,
                c.seconds(), c.perSecond()));

        DeviceProcesses.Totals before = devices.totals();
        CpuMeter.Snapshot h0 = cpu.snapshot();
        long holdStart = System.nanoTime();
        long holdEnd = holdStart + Duration.ofSeconds(o.seconds).toNanos();
        long lastPrint = holdStart;
        while (System.nanoTime() < holdEnd) {
            sleep(Math.min(200, Math.max(1, (holdEnd - System.nanoTime()) / 1_000_000)));
            if (System.nanoTime() - lastPrint >= o.progressSeconds * 1_000_000_000L) {
                lastPrint = System.nanoTime();
                DeviceProcesses.Totals t = devices.totals();
                say(String.format("hold %4.0f/%d s: %,d connected, %,d disconnects, %,d reconnects | %s | cpu %s",
                        (lastPrint - holdStart) / 1e9, o.seconds, t.connected(), t.disconnects() - before.disconnects(),
                        t.reconnects() - before.reconnects(), brokerConnections(),
                        CpuMeter.describe(cpu.snapshot().percentSince(h0))));
            }
        }
        Map<String, Double> holdCpu = cpu.snapshot().percentSince(h0);
        DeviceProcesses.Totals after = devices.totals();

        Map<String, Mem> held = new LinkedHashMap<>();
        for (BrokerProcess b : brokers) {
            held.put(b.id(), measure(b));
            Files.writeString(o.runDir.resolve("broker-" + b.id() + "-histogram.txt"),
                    Jcmd.classHistogramHead(b.pid(), 40));
        }
        say("with devices connected, after full GC: " + describe(held));


        Map<String, Mem> closed = new LinkedHashMap<>();
        if (o.measureAfterClose) {
            devices.closeDevices(Duration.ofSeconds(30));
            awaitBrokersEmpty(Duration.ofSeconds(30));
            for (BrokerProcess b : brokers) {
                closed.put(b.id(), measure(b));
            }
            say("after every device closed, after full GC: " + describe(closed));
        }

        ObjectNode j = report.json;
        j.put("devices", o.devices);
        j.put("brokers", o.brokers);
        j.put("clientProcesses", o.clients);
        j.put("connected", c.connected());
        j.put("connectedAtEnd", after.connected());
        j.put("connectSeconds", Report.round1(c.seconds()));
        j.put("connectRate", Math.round(c.perSecond()));
        j.put("holdSeconds", o.seconds);
        j.put("disconnectsDuringHold", after.disconnects() - before.disconnects());
        j.put("connectFailures", after.connectFailures());
        cpuJson(j, "cpuConnectPct", c.cpu());
        cpuJson(j, "cpuHoldPct", holdCpu);

        report.row("devices connected", Report.count(c.connected()) + " / " + Report.count(o.devices),
                after.connected() + " still connected at the end of the hold");
        report.row("connect time", String.format("%.1f s", c.seconds()),
                "dispatch + TCP + CONNECT/CONNACK, window " + o.connectWindow + " per device process");
        report.row("connect rate", String.format("%,.0f /s", c.perSecond()), "cpu " + CpuMeter.describe(c.cpu()));
        report.row("connect failures / dispatch failures", after.connectFailures() + " / " + after.dispatchFailures());
        // The machine is shared, so the wall-clock rate says little about a broker: its CPU per connect does.
        double brokerCpuSeconds = c.cpu().getOrDefault("brokers", 0.0) / 100.0 * c.seconds();
        double brokerMsPerConnect = 1000.0 * brokerCpuSeconds / Math.max(1, c.connected());
        j.put("brokerCpuMsPerConnect", Report.round2(brokerMsPerConnect));
        j.put("connectsPerBrokerCoreSecond", Math.round(1000.0 / Math.max(brokerMsPerConnect, 1e-3)));
        report.row("broker CPU per connect", String.format("%.2f ms", brokerMsPerConnect),
                String.format("%,.0f connects (%s) per broker core-second", 1000.0 / Math.max(brokerMsPerConnect, 1e-3),
                        o.tls ? "each a full TLS handshake + CONNECT" : "CONNECT"));
        report.row("hold", o.seconds + " s", (after.disconnects() - before.disconnects())
                + " disconnects; cpu " + CpuMeter.describe(holdCpu));

        ArrayNode per = j.putArray("perBroker");
        double worstRss = 0;
        for (BrokerProcess b : brokers) {
            Mem m0 = base.get(b.id());
            Mem m1 = held.get(b.id());
            Mem m2 = closed.get(b.id());
            int n = Math.max(1, m1.connections());
            double rssPer = (m1.rssKiB() - m0.rssKiB()) / (double) n;
            double heapPer = (m1.heapBytes() - m0.heapBytes()) / (double) n;
            worstRss = Math.max(worstRss, rssPer);
            ObjectNode bj = per.addObject();
            bj.put("id", b.id());
            bj.put("connections", m1.connections());
            bj.put("rssBaseKiB", m0.rssKiB());
            bj.put("rssKiB", m1.rssKiB());
            bj.put("rssPerConnKiB", Report.round2(rssPer));
            bj.put("heapBaseBytes", m0.heapBytes());
            bj.put("heapBytes", m1.heapBytes());
            bj.put("heapPerConnBytes", Math.round(heapPer));
            if (m2 != null) {
                bj.put("rssAfterCloseKiB", m2.rssKiB());
                bj.put("heapAfterCloseBytes", m2.heapBytes());
            }
            report.row("broker " + b.id() + " connections", Report.count(m1.connections()));
            report.row("broker " + b.id() + " RSS", String.format("%,.1f → %,.1f MiB", m0.rssKiB() / 1024.0,
                    m1.rssKiB() / 1024.0), m2 == null ? "" : String.format("%,.1f MiB after every device closed",
                    m2.rssKiB() / 1024.0));
            report.row("broker " + b.id() + " RSS per connection", String.format("%.2f KiB", rssPer),
                    "target ≤ 4 KiB, aim 2 KiB" + (rssPer <= 4 ? " (met)" : " (MISSED)"));
            report.row("broker " + b.id() + " live heap per connection", String.format("%,.0f B", heapPer),
                    String.format("class histogram total %,.1f → %,.1f MiB", m0.heapBytes() / (double) KIB / KIB,
                            m1.heapBytes() / (double) KIB / KIB));
            double committedPer = (m1.heapCommittedKiB() - m0.heapCommittedKiB()) / (double) n;
            bj.put("heapCommittedBaseKiB", m0.heapCommittedKiB());
            bj.put("heapCommittedKiB", m1.heapCommittedKiB());
            bj.put("heapCommittedPerConnKiB", Report.round2(committedPer));
            report.row("broker " + b.id() + " committed heap per connection", String.format("%.2f KiB", committedPer),
                    String.format("G1 heap capacity after full GC %,.1f → %,.1f MiB", m0.heapCommittedKiB() / 1024.0,
                            m1.heapCommittedKiB() / 1024.0));
            if (!m1.nmt().isEmpty()) {
                ObjectNode nj = bj.putObject("nmtPerConnBytes");
                StringBuilder sb = new StringBuilder("broker " + b.id()
                        + " native memory tracking, committed per connection (N connected − none):");
                m1.nmt().forEach((cat, kib) -> {
                    long perConn = Math.round((kib - m0.nmt().getOrDefault(cat, 0L)) * 1024.0 / n);
                    nj.put(cat, perConn);
                    if (Math.abs(perConn) >= 16) {
                        sb.append(String.format("%n    %-22s %,7d B", cat, perConn));
                    }
                });
                report.note(sb.toString());
            }
        }
        j.put("worstRssPerConnKiB", Report.round2(worstRss));
        report.note("Client and platform share this machine's 2 cores; cpu is percent of one core "
                + "(clients = device processes; platform = this JVM: Kafka, dispatcher, logic node).");
        report.note("Logs and class histograms: " + o.runDir);
        finish(report);
        result = j;
        return 0;
    }

    private void awaitBrokersEmpty(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean empty = true;
            for (BrokerProcess b : platform.brokers()) {
                if (b.connections() > 0) {
                    empty = false;
                }
            }
            if (empty) {
                return;
            }
            sleep(200);
        }
        say("brokers still hold connections after " + timeout + ": " + brokerConnections());
    }

    private static String describe(Map<String, Mem> m) {
        StringBuilder sb = new StringBuilder();
        m.forEach((id, mem) -> sb.append(String.format("%s: %,d conns, RSS %,.1f MiB, live heap %,.1f MiB; ", id,
                mem.connections(), mem.rssKiB() / 1024.0, mem.heapBytes() / 1024.0 / 1024.0)));
        return sb.toString();
    }

    @Override
    public ObjectNode result() {
        return result;
    }
}
