package io.tern.client.net;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * When the held broadcast acks of the connections on one event loop are due: one scheduled task for the loop
 * instead of one per connection. A broadcast reaches every connection of a loop at once, and a task per connection
 * was a heap insert among thousands on every delivery and a heap removal when it fired (a tenth of a 10,000-device
 * fleet's CPU in a JFR profile). Holders wait first-held first per delay, because every holder of one delay is due
 * in the order it was added; a delay is the broker's (its CONNACK), so there is usually one.
 * <p>Loop-confined: {@link #of} and {@link #add} are called on the loop the timer is for, and it calls
 * {@link Holder#heldAcksDue} there. Each add is due once; the holder decides then whether it still holds anything.
 */
final class HeldAckTimer {
    /** Holders called per run; more due ones run in the next task, so the loop reads and writes in between. */
    static final int SLICE = 256;

    /** Per loop thread, by executor (a thread may drive several, e.g. embedded channels in tests). */
    private static final FastThreadLocal<Map<EventExecutor, HeldAckTimer>> BY_LOOP = new FastThreadLocal<>() {
        @Override
        protected Map<EventExecutor, HeldAckTimer> initialValue() {
            return new WeakHashMap<>();
        }
    };

    /** What waits for the timer: a connection holding broadcast acks. */
    interface Holder {
        void heldAcksDue();
    }

    private record Entry(Holder holder, long dueNanos) {
    }

    private record Lane(long delayNanos, ArrayDeque<Entry> queue) {
    }

    private final EventExecutor loop;
    private final List<Lane> lanes = new ArrayList<>(1);
    private ScheduledFuture<?> scheduled;
    private long scheduledAt;

    private HeldAckTimer(EventExecutor loop) {
        this.loop = loop;
    }

    /** The timer of {@code loop}; call on that loop. */
    static HeldAckTimer of(EventExecutor loop) {
        return BY_LOOP.get().computeIfAbsent(loop, HeldAckTimer::new);
    }

    /** Calls {@code holder} back once {@code delayNanos} from now have passed. */
    void add(Holder holder, long delayNanos) {
        long now = loop.ticker().nanoTime();
        long due = now + delayNanos;
        lane(delayNanos).addLast(new Entry(holder, due));
        arm(due, now);
    }

    /** Holders waiting (for tests and diagnostics). */
    int waiting() {
        int n = 0;
        for (Lane lane : lanes) {
            n += lane.queue().size();
        }
        return n;
    }

    private ArrayDeque<Entry> lane(long delayNanos) {
        for (Lane lane : lanes) {
            if (lane.delayNanos() == delayNanos) {
                return lane.queue();
            }
        }
        Lane lane = new Lane(delayNanos, new ArrayDeque<>());
        lanes.add(lane);
        return lane.queue();
    }

    private void arm(long due, long now) {
        if (scheduled != null) {
            if (scheduledAt - due <= 0) {
                return; // the task already scheduled runs first and re-arms for this one
            }
            scheduled.cancel(false);
        }
        scheduledAt = due;
        scheduled = loop.schedule(this::run, Math.max(0, due - now), TimeUnit.NANOSECONDS);
    }

    private void run() {
        scheduled = null;
        long now = loop.ticker().nanoTime();
        int called = 0;
        long next = Long.MAX_VALUE;
        boolean moreDue = false;
        for (Lane lane : lanes) {
            ArrayDeque<Entry> queue = lane.queue();
            Entry head;
            while ((head = queue.peekFirst()) != null) {
                if (head.dueNanos() - now > 0) {
                    if (next == Long.MAX_VALUE || head.dueNanos() - next < 0) {
                        next = head.dueNanos();
                    }
                    break;
                }
                if (called == SLICE) {
                    moreDue = true;
                    break;
                }
                queue.pollFirst();
                called++;
                head.holder().heldAcksDue();
            }
        }
        lanes.removeIf(lane -> lane.queue().isEmpty());
        if (moreDue) {
            arm(now, now);
        } else if (next != Long.MAX_VALUE) {
            arm(next, now);
        }
    }
}
