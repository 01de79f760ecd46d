package io.tern.store.message;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Group commit of single-push status marks (SENT after the broker wrote the push, OFFLINE when it could
 * not): a mark goes to Redis at once when no batch is in flight, otherwise with the next batch, one flush
 * for up to {@code batchMax} marks (a script per device). Nothing waits on a timer, so an idle node adds no latency and a
 * busy one makes one round trip per batch instead of one per push. Callers answer only once their mark
 * is recorded, so a status read after the answer sees it.
 */
public final class StatusMarks {
    private record Pending(StatusMark mark, CompletableFuture<Void> done) {
    }

    private final MessageRepository messages;
    private final int batchMax;
    private final LongSupplier clock;

    // Guarded by this. Bounded by the pushes in flight (logic.broker-max-in-flight per broker).
    private final ArrayDeque<Pending> queued = new ArrayDeque<>();
    private int batchesInFlight;
    private long batchesSent;

    public StatusMarks(MessageRepository messages, int batchMax, LongSupplier clock) {
        this.messages = messages;
        this.batchMax = batchMax;
        this.clock = clock;
    }

    /** Completes once the message's status moved forward to {@code status} (or was already past it). */
    public CompletableFuture<Void> mark(String appId, String regId, long msgId, MessageStatus status) {
        Pending p = new Pending(new StatusMark(appId, regId, msgId, status), new CompletableFuture<>());
        List<Pending> batch;
        synchronized (this) {
            queued.add(p);
            batch = nextBatch();
        }
        if (batch != null) {
            send(batch);
        }
        return p.done();
    }

    /** A batch to send now: when none is in flight, or when a full one has gathered behind it. */
    private List<Pending> nextBatch() {
        if (queued.isEmpty() || (batchesInFlight > 0 && queued.size() < batchMax)) {
            return null;
        }
        List<Pending> batch = new ArrayList<>(Math.min(queued.size(), batchMax));
        while (!queued.isEmpty() && batch.size() < batchMax) {
            batch.add(queued.poll());
        }
        batchesInFlight++;
        batchesSent++;
        return batch;
    }

    private void send(List<Pending> batch) {
        List<StatusMark> marks = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            marks.add(p.mark());
        }
        CompletableFuture<Integer> call;
        try {
            call = messages.advanceAll(marks, clock.getAsLong());
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.whenComplete((n, err) -> {
            List<Pending> next;
            synchronized (this) {
                batchesInFlight--;
                next = nextBatch();
            }
            if (next != null) {
                send(next); // keep Redis busy first, then wake the waiting requests
            }
            for (Pending p : batch) {
                if (err == null) {
                    p.done().complete(null);
                } else {
                    p.done().completeExceptionally(err);
                }
            }
        });
    }

    /** Redis calls made so far (for tests). */
    synchronized long batchesSent() {
        return batchesSent;
    }
}
