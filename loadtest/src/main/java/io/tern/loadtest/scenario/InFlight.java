package io.tern.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The all-pushes of {@code broadcast --in-flight N} that are outstanding: each from its {@code /all} call until
 * every device process reported it received on all of its online devices, its call failed, or its timeout passed
 * (counted as timed out, never as done). At most {@code limit} at once. Thread-safe: device processes report on
 * their reader threads while the runner waits for a slot.
 */
final class InFlight {
    private final int limit;
    private final int processes;
    private final long timeoutNanos;
    private final LongSupplier nanos;
    /** Broadcast number → its deadline and the device processes that have it everywhere, in call order. */
    private final Map<Long, Outstanding> outstanding = new LinkedHashMap<>();
    private final List<Long> timedOut = new ArrayList<>();
    private int completed;
    private int peak;

    private static final class Outstanding {
        final long deadline;
        final Set<Integer> done = new HashSet<>();

        Outstanding(long deadline) {
            this.deadline = deadline;
        }
    }

    /**
     * @param processes device processes that must each report a broadcast before it is done
     * @param nanos     monotonic clock ({@link System#nanoTime} outside tests)
     */
    InFlight(int limit, int processes, long timeoutNanos, LongSupplier nanos) {
        if (limit < 1 || processes < 1 || timeoutNanos <= 0) {
            throw new IllegalArgumentException("limit, processes >= 1 and a positive timeout, got " + limit + ", "
                    + processes + ", " + timeoutNanos);
        }
        this.limit = limit;
        this.processes = processes;
        this.timeoutNanos = timeoutNanos;
        this.nanos = nanos;
    }

    /** Whether another all-push may start now (after ending the wait of every one past its timeout). */
    synchronized boolean hasSlot() {
        expire();
        return outstanding.size() < limit;
    }

    /** Broadcast {@code k}'s {@code /all} call is about to go: outstanding from now. */
    synchronized void started(long k) {
        if (!hasSlot()) {
            throw new IllegalStateException(limit + " all-pushes in flight already");
        }
        if (outstanding.putIfAbsent(k, new Outstanding(nanos.getAsLong() + timeoutNanos)) != null) {
            throw new IllegalStateException("broadcast " + k + " is in flight already");
        }
        peak = Math.max(peak, outstanding.size());
    }

    /**
     * Device process {@code process} received broadcast {@code k} on all its online devices; the last process's
     * report makes it done. Reports of broadcasts not outstanding (warm-up, timed out, twice) change nothing.
     */
    synchronized void received(long k, int process) {
        Outstanding o = outstanding.get(k);
        if (o == null || !o.done.add(process) || o.done.size() < processes) {
            return;
        }
        outstanding.remove(k);
        completed++;
        notifyAll();
    }

    /** Broadcast {@code k}'s call failed (the caller counts it): it frees its slot, not counted as done. */
    synchronized void failed(long k) {
        if (outstanding.remove(k) != null) {
            notifyAll();
        }
    }

    /** Ends the wait of every all-push past its timeout (counted); returns how many ended now. */
    synchronized int expire() {
        long now = nanos.getAsLong();
        int n = 0;
        for (Iterator<Map.Entry<Long, Outstanding>> it = outstanding.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Outstanding> e = it.next();
            if (now - e.getValue().deadline >= 0) {
                it.remove();
                timedOut.add(e.getKey());
                n++;
            }
        }
        if (n > 0) {
            notifyAll();
        }
        return n;
    }

    /** Blocks until another all-push may start. */
    synchronized void awaitSlot() throws InterruptedException {
        while (!hasSlot()) {
            waitForChange();
        }
    }

    /** Blocks until nothing is outstanding (every one done, failed or timed out). */
    synchronized void awaitNone() throws InterruptedException {
        expire();
        while (!outstanding.isEmpty()) {
            waitForChange();
            expire();
        }
    }

    /** Waits for a report or until the earliest deadline (at most 100 ms, so a clock that jumps is noticed). */
    private void waitForChange() throws InterruptedException {
        long soonest = Long.MAX_VALUE;
        long now = nanos.getAsLong();
        for (Outstanding o : outstanding.values()) {
            soonest = Math.min(soonest, o.deadline - now);
        }
        wait(Math.max(1, Math.min(100, soonest / 1_000_000)));
    }

    synchronized int outstanding() {
        return outstanding.size();
    }

    synchronized int completed() {
        return completed;
    }

    /** Broadcast numbers whose timeout passed before every device process had them, in the order they timed out. */
    synchronized List<Long> timedOut() {
        return List.copyOf(timedOut);
    }

    /** The most all-pushes outstanding at once. */
    synchronized int peak() {
        return peak;
    }

    /** The bound's outcome into a run's JSON: peak, completed, timed out (and which). */
    synchronized void putJson(ObjectNode j) {
        j.put("inFlightPeak", peak);
        j.put("inFlightCompleted", completed);
        j.put("inFlightTimedOut", timedOut.size());
        var late = j.putArray("inFlightTimedOutBroadcasts");
        timedOut.forEach(late::add);
    }

    /** The bound's outcome as a report row; {@code receivedWhere}: what "done" means, e.g. "on every connected device". */
    synchronized void putRow(Report report, String receivedWhere) {
        report.row("in flight", "≤ " + limit + " (peak " + peak + ")", String.format(
                "%d received %s, %d timed out after %d s%s", completed, receivedWhere, timedOut.size(),
                TimeUnit.NANOSECONDS.toSeconds(timeoutNanos), timedOut.isEmpty() ? "" : " (broadcasts " + timedOut + ")"));
    }
}
