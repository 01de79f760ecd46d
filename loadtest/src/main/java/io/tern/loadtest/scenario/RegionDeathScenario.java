package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.tern.devstack.process.RoleProcess;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * {@code region-death --devices N}: with pushes flowing and no policy change, every broker of the first region
 * is SIGKILLed; its devices fall back by themselves to the other regions' brokers from their dispatch answer.
 * Reports how long until every device is connected again, the peak connect rate per surviving broker (admissions
 * per second from the registry, against its cap) and, at the end, loss.
 */
final class RegionDeathScenario extends RegionScenario {
    RegionDeathScenario(Options o, PrintStream out) {
        super(o, out);
    }

    @Override
    protected String title() {
        return String.format("region-death: every broker of %s SIGKILLed, %,d devices over %d regions (%d broker(s) "
                + "each), pushes %,d/s", regions.get(0), o.devices, regions.size(), o.brokersPerRegion, o.pushRate);
    }

    @Override
    protected boolean experiment(Report report) {
        String dead = regions.get(0);
        int orphaned = devices.devicesOf(dead);
        List<RoleProcess> killed = cluster.brokersIn(dead);
        long w = startWindow("region-death");
        long t0 = System.currentTimeMillis();
        killed.forEach(RoleProcess::kill);
        say(String.format("SIGKILL %s (every broker of %s): %,d devices lose their broker",
                killed.stream().map(RoleProcess::id).toList(), dead, orphaned));
        // The kill is seen by the devices within a stats period; then all must be back.
        awaitTrue("devices to notice", Duration.ofSeconds(10), () -> connectedNow() < o.devices);
        long lastPrint = 0;
        long timeout = Duration.ofSeconds(o.connectTimeout).toMillis();
        boolean back = false;
        while (System.currentTimeMillis() - t0 < timeout) {
            if (connectedNow() >= o.devices) {
                back = true;
                break;
            }
            if (System.currentTimeMillis() - lastPrint >= o.progressSeconds * 1000L) {
                say(String.format("reconnect: %,d/%,d connected | %s", connectedNow(), o.devices, registry.describe()));
                lastPrint = System.currentTimeMillis();
            }
            sleep(50);
        }
        long t1 = System.currentTimeMillis();
        endWindow("region-death", w);
        double seconds = (t1 - t0) / 1e3;
        say(back ? String.format("all %,d devices connected again %.1f s after the kill", o.devices, seconds)
                : String.format("only %,d of %,d devices connected %.0f s after the kill", connectedNow(), o.devices, seconds));
        // Let the surviving brokers' next reports (each second) cover the end of the storm.
        sleep(2_000);
        report.json.put("deadRegion", dead);
        report.json.put("orphaned", orphaned);
        report.json.put("allReconnected", back);
        report.json.put("reconnectSeconds", Report.round2(seconds));
        report.row("reconnected in", String.format("%.1f s", seconds), String.format("%,d devices of %s: SIGKILL → every "
                + "device connected again (device counters every %d ms)%s", orphaned, dead, o.statsEveryMs,
                back ? "" : " — NOT ALL"));
        ArrayNode admissions = report.json.putArray("admissions");
        boolean capsOk = true;
        for (String r : regions.subList(1, regions.size())) {
            capsOk &= admissionRows(report, admissions, "reconnect", r, t0, t1 + 2_000);
        }
        report.note("targets: all devices back " + (back ? "met" : "MISSED") + ", no surviving broker above its "
                + "admission cap " + (capsOk ? "met" : "MISSED") + ", lost 0 (below)");
        return back && capsOk;
    }
}
