package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.devstack.process.ProcessCluster;
import io.tern.loadtest.api.SchedulerApi;
import io.tern.loadtest.stats.CounterSeries;

import java.io.PrintStream;
import java.util.function.BooleanSupplier;

/**
 * {@code failover --devices 20000 [--rate 500]}: with pushes flowing, an SRE fails the first region over to
 * the second through the global scheduler's admin API at {@code --rate} devices/s, waits until the policy says
 * failed-over and the moved devices are connected again, then fails it back the same way. Per move: duration
 * (202 → the region's end state, and → the devices settled), REGION_MOVED redirects per second the devices saw,
 * each target broker's peak admissions per second against its cap and its SERVER_BUSY refusals, and the p99 of
 * the pushes sent during the move; at the end, loss and devices away from home.
 */
final class FailoverScenario extends RegionScenario {
    private SchedulerApi scheduler;

    FailoverScenario(Options o, PrintStream out) {
        super(o, out);
    }

    @Override
    protected String title() {
        return String.format("failover: %,d devices over %d regions (%d broker(s) each), move rate %,d/s, pushes %,d/s",
                o.devices, regions.size(), o.brokersPerRegion, o.rate, o.pushRate);
    }

    /** What one move measured. */
    private record Move(String label, int devices, double policySeconds, double settledSeconds, long redirected,
                        double redirectSeconds, CounterSeries.Peak peakRedirects, boolean completed) {
        /** Mean REGION_MOVED per second while the devices were being redirected. */
        double redirectsPerSecond() {
            return redirected / Math.max(redirectSeconds, 1.0);
        }
    }

    @Override
    protected boolean experiment(Report report) {
        scheduler = new SchedulerApi(cluster.schedulerUrls(), ProcessCluster.SRE_TOKEN);
        String from = regions.get(0);
        String to = regions.get(1);
        int moving = devices.devicesOf(from);

        long t0 = System.currentTimeMillis();
        long w0 = startWindow("failover");
        long version = scheduler.failover(from, to, o.rate, "loadtest failover");
        say(String.format("failover %s → %s at %,d/s accepted (policy version %d); %,d devices to move", from, to,
                o.rate, version, moving));
        Move over = awaitMove("failover", from, "failed-over", moving, t0,
                () -> registry.connectionsIn(from) == 0 && connectedNow() >= o.devices);
        endWindow("failover", w0);

        sleep(3_000);
        long t1 = System.currentTimeMillis();
        long w1 = startWindow("failback");
        version = scheduler.failback(from, o.rate, "loadtest failback");
        say(String.format("failback of %s at %,d/s accepted (policy version %d)", from, o.rate, version));
        Move back = awaitMove("failback", from, "active", moving, t1,
                () -> registry.sessionsOf(from, to) == 0 && connectedNow() >= o.devices);
        endWindow("failback", w1);
        // Registry reports are a second old at most: let the last ones land before counting who is home.
        sleep(2_000);
        int away = registry.awayFromHome();

        ObjectNode j = report.json;
        j.put("moveRate", o.rate);
        j.put("from", from);
        j.put("to", to);
        ArrayNode moves = j.putArray("moves");
        for (Move m : new Move[]{over, back}) {
            ObjectNode n = moves.addObject();
            n.put("move", m.label());
            n.put("devices", m.devices());
            n.put("completed", m.completed());
            n.put("policySeconds", Report.round2(m.policySeconds()));
            n.put("settledSeconds", Report.round2(m.settledSeconds()));
            n.put("redirected", m.redirected());
            n.put("redirectSeconds", Report.round1(m.redirectSeconds()));
            n.put("redirectsPerSecond", Report.round1(m.redirectsPerSecond()));
            n.put("peakRedirectsPerSecond", Report.round1(m.peakRedirects().perSecond()));
            report.row(m.label() + " duration", String.format("%.1f s", m.settledSeconds()), String.format(
                    "%,d devices %s → %s: 202 → all connected again%s; policy state after %.1f s", m.devices(),
                    m.label().equals("failover") ? from : to, m.label().equals("failover") ? to : from,
                    m.completed() ? "" : " — NOT COMPLETED", m.policySeconds()));
            report.row(m.label() + " redirects/s", String.format("%,.0f", m.redirectsPerSecond()),
                    String.format("REGION_MOVED the devices saw: %,d over %.1f s, peak %,.0f/s (≥ 1 s windows); asked %,d/s",
                            m.redirected(), m.redirectSeconds(), m.peakRedirects().perSecond(), o.rate));
        }
        // Admissions on the target brokers from the 202 until 2 s after the devices settled (reports lag ≤ 1 s).
        ArrayNode admissions = j.putArray("admissions");
        boolean capsOk = admissionRows(report, admissions, "failover", to, t0, t0 + Math.round(over.settledSeconds() * 1000) + 2_000);
        capsOk &= admissionRows(report, admissions, "failback", from, t1, t1 + Math.round(back.settledSeconds() * 1000) + 2_000);
        j.put("awayFromHomeAfterFailback", away);
        int cap = registry.brokers().values().stream().filter(b -> b.region().equals(to))
                .mapToInt(b -> b.connects().admissionPerSecond()).max().orElse(0);
        double efficiency = Math.min(1.0, Math.max(0.01, over.devices() / Math.max(over.settledSeconds(), 1e-3) / o.rate));
        MoveEstimate million = new MoveEstimate(1_000_000, o.rate, 30, cap, 1.0);
        MoveEstimate measured = new MoveEstimate(1_000_000, o.rate, 30, cap, efficiency);
        j.put("millionOver30BrokersSeconds", Math.round(million.seconds()));
        j.put("millionOver30BrokersSecondsAtMeasuredEfficiency", Math.round(measured.seconds()));
        report.note("1,000,000 devices onto 30 target brokers at these settings: " + million.explain());
        report.note("  at this run's efficiency (failover devices/s ÷ asked rate): " + measured.explain());
        report.row("away from home", Report.count(away), "sessions on a broker outside their home region after failback");
        boolean fast = over.completed() && back.completed() && over.settledSeconds() <= 60 && back.settledSeconds() <= 60;
        report.note(String.format("targets: each move ≤ 60 s %s, no target broker above its admission cap %s, "
                + "lost 0 (below)", fast ? "met" : "MISSED", capsOk ? "met" : "MISSED"));
        return fast && capsOk && away == 0;
    }

    /**
     * Follows a move until the region reaches {@code endState} in the policy and {@code settled} holds (or the
     * time a move at this rate should take, three times over plus two minutes, has passed), printing the
     * scheduler's progress.
     */
    private Move awaitMove(String label, String region, String endState, int moving, long startMillis,
                           BooleanSupplier settled) {
        long redirectedAtStart = redirects.last();
        long timeoutMs = (long) (moving * 3_000.0 / o.rate) + 120_000;
        long policyAt = 0;
        long settledAt = 0;
        long lastPrint = 0;
        while (System.currentTimeMillis() - startMillis < timeoutMs) {
            long now = System.currentTimeMillis();
            if (policyAt == 0 && endState.equals(stateOf(region))) {
                policyAt = now;
                say(String.format("%s: %s is %s after %.1f s", label, region, endState, (now - startMillis) / 1e3));
            }
            if (settledAt == 0 && settled.getAsBoolean()) {
                settledAt = now;
            }
            if (policyAt != 0 && settledAt != 0) {
                break;
            }
            if (now - lastPrint >= o.progressSeconds * 1000L) {
                say(String.format("%s: %s | redirected %,d | %s", label, progress(region),
                        redirects.last() - redirectedAtStart, registry.describe()));
                lastPrint = now;
            }
            sleep(100);
        }
        long end = System.currentTimeMillis();
        boolean done = policyAt != 0 && settledAt != 0;
        if (!done) {
            say(label + " did not complete: policy " + (policyAt == 0 ? "not " + endState : endState)
                    + ", devices " + (settledAt == 0 ? "not settled" : "settled") + "; " + progress(region));
        }
        double policy = ((policyAt == 0 ? end : policyAt) - startMillis) / 1e3;
        double settledSeconds = ((done ? Math.max(policyAt, settledAt) : end) - startMillis) / 1e3;
        long redirected = redirects.last() - redirectedAtStart;
        CounterSeries.Peak peak = redirects.peak(startMillis, end, 1_000);
        return new Move(label, moving, policy, settledSeconds, redirected, redirects.activeSeconds(startMillis, end), peak,
                done);
    }

    private String stateOf(String region) {
        try {
            return scheduler.state(region);
        } catch (RuntimeException e) {
            return null; // a scheduler restarting: ask again
        }
    }

    /** The scheduler's view of the move: "stage 2 (25 %), moved 1,200, left 5,467, 480/s, paused: …". */
    private String progress(String region) {
        try {
            JsonNode m = scheduler.move(region);
            if (m == null) {
                return "no move under way";
            }
            return String.format("stage %d (%.0f %%), moved %,d, left %,d, %,.0f/s%s", m.path("stage").asInt(),
                    m.path("stageFraction").asDouble() * 100, m.path("moved").asLong(), m.path("left").asLong(),
                    m.path("currentRatePerSecond").asDouble(),
                    m.path("paused").asBoolean() ? ", PAUSED: " + m.path("pausedReason").asText() : "");
        } catch (RuntimeException e) {
            return "progress unavailable (" + e.getMessage() + ")";
        }
    }
}
