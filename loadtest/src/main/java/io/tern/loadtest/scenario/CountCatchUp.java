package io.tern.loadtest.scenario;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The platform's counts of a broadcast run catching up with what the devices received: per task, the receipts
 * the devices saw and the latest {@code delivered} of {@code GET /v1/tasks/{taskId}}. A task has caught up when
 * its count reaches its receipts. The count's last move is when the last counted ack was seen (to within one poll
 * round: a count already complete at the first look counts as moved then). Counts may be looked at before the
 * receipts are known (the first look comes as early as possible); until then every task is pending.
 */
final class CountCatchUp {
    private static final long UNKNOWN = -1;
    /** taskId → {receipts (UNKNOWN until {@link #expect}), latest delivered}. */
    private final Map<String, long[]> tasks = new LinkedHashMap<>();
    private long lastMoveNanos;
    private long lastMoveMicros;
    private boolean moved;

    /**
     * @param taskIds    the tasks waited for
     * @param startNanos when the wait starts (a count that never moves is stalled from here)
     */
    CountCatchUp(List<String> taskIds, long startNanos) {
        taskIds.forEach(task -> tasks.put(task, new long[]{UNKNOWN, 0}));
        this.lastMoveNanos = startNanos;
    }

    /** What the devices received of each task (a task not named: nothing). */
    void expect(Map<String, Long> receiptsByTask) {
        tasks.forEach((task, t) -> t[0] = receiptsByTask.getOrDefault(task, 0L));
    }

    /** Tasks whose receipts are not known yet or whose count is below them, in the order given. */
    List<String> pending() {
        List<String> out = new ArrayList<>();
        tasks.forEach((task, t) -> {
            if (t[0] == UNKNOWN || t[1] < t[0]) {
                out.add(task);
            }
        });
        return out;
    }

    /** One answer of {@code GET /v1/tasks/{taskId}}: its {@code delivered}, seen at these times. */
    void observe(String taskId, long delivered, long nowNanos, long nowEpochMicros) {
        long[] t = tasks.get(taskId);
        if (t == null || delivered <= t[1]) {
            return;
        }
        t[1] = delivered;
        moved = true;
        lastMoveNanos = nowNanos;
        lastMoveMicros = nowEpochMicros;
    }

    boolean caughtUp() {
        return pending().isEmpty();
    }

    /** No count moved for {@code quietNanos} (or since the start, if none ever did). */
    boolean stalled(long nowNanos, long quietNanos) {
        return nowNanos - lastMoveNanos >= quietNanos;
    }

    /** Receipts of every task (0 until {@link #expect}). */
    long receipts() {
        return tasks.values().stream().mapToLong(t -> Math.max(0, t[0])).sum();
    }

    long counted() {
        return tasks.values().stream().mapToLong(t -> t[1]).sum();
    }

    /** Epoch µs of the last count that moved, 0 when none did. */
    long lastMoveMicros() {
        return moved ? lastMoveMicros : 0;
    }
}
