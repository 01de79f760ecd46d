package io.tern.broker.ack;

import io.tern.store.topic.AckRecord;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Counts device acks of the broadcasts this broker is writing, so that a broadcast costs one
 * ack record per flush instead of one per device. A broadcast is registered when it starts (the
 * most recent {@code capacity} ones, each for {@code window}); an ack of a registered msgId is
 * one atomic increment on the event loop, with no allocation and no queue. {@link #flush} turns
 * every counter that moved into one count record with its cumulative total; the consumer applies
 * only the increase over the last total it saw for that counter, so resending a total is safe.
 * <p>
 * Retiring a counter (age, capacity, close) swaps its value for {@link #CLOSED} in the same
 * atomic step that reads the final total: an ack that increments after that sees a negative
 * value and goes per device instead, so no ack is counted twice or lost between the two paths.
 * <p>
 * Threads: {@link #count} from any event loop (lock-free, reads a copy-on-write table),
 * {@link #register} from the internal port's loops (short lock, no I/O), {@link #flush} and
 * {@link #retireAll} from the ack publisher's thread.
 */
public final class BroadcastAckCounts {
    /** Far below any real count, so increments after retirement never turn it positive again. */
    static final long CLOSED = Long.MIN_VALUE / 2;

    private final String brokerId;
    private final String incarnation;
    private final int capacity;
    private final long windowNanos;
    private final LongSupplier nanoClock;
    private final LongSupplier wallClock;
    private final Object lock = new Object();
    /** Sorted by msgId, replaced on every change: readers never lock. */
    private volatile Table table = new Table(new long[0], new Counter[0]);
    /** Live counters, oldest first (guarded by lock). */
    private final ArrayDeque<Counter> live = new ArrayDeque<>();
    /** Retired counters whose final total Kafka has not confirmed yet (guarded by lock). */
    private final List<Counter> retired = new ArrayList<>();
    private long nextCounter; // guarded by lock
    private final AtomicLong counted = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();

    /**
     * @param incarnation tells this process's counters from those of an earlier run with the same broker id
     * @param capacity    broadcasts counted at once; 0 counts none
     * @param nanoClock   for counter ages
     * @param wallClock   epoch millis stamped on count records
     */
    public BroadcastAckCounts(String brokerId, String incarnation, int capacity, Duration window,
                              LongSupplier nanoClock, LongSupplier wallClock) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0: " + capacity);
        }
        this.brokerId = brokerId;
        this.incarnation = incarnation;
        this.capacity = capacity;
        this.windowNanos = window.toNanos();
        this.nanoClock = nanoClock;
        this.wallClock = wallClock;
    }

    /**
     * Counts the ack of {@code msgId} if it is a registered broadcast.
     *
     * @return false when it is not (or no longer) counted here: publish it per device
     */
    public boolean count(long msgId) {
        Table t = table;
        int i = Arrays.binarySearch(t.msgIds, msgId);
        return i >= 0 && t.counters[i].value.getAndIncrement() >= 0;
    }

    /** Starts counting the acks of broadcast {@code msgId}; the oldest counter retires when full. */
    public void register(String appId, long msgId) {
        if (capacity == 0) {
            return;
        }
        long now = nanoClock.getAsLong();
        synchronized (lock) {
            if (Arrays.binarySearch(table.msgIds, msgId) >= 0) {
                return; // the same broadcast again (a retried command): keep its counter
            }
            if (live.size() >= capacity) {
                retire(live.pollFirst());
            }
            live.addLast(new Counter(appId, msgId, brokerId + ':' + incarnation + ':' + (++nextCounter), now));
            rebuild();
        }
    }

    /**
     * Retires counters past the window, then hands {@code out} one count record for each counter
     * whose total changed since it was last handed over (or whose last record Kafka refused).
     * {@code out} returns false when it could not take a record now; it is offered again next time.
     */
    public void flush(Predicate<Pending> out) {
        List<Counter> due;
        long now = nanoClock.getAsLong();
        synchronized (lock) {
            boolean changed = false;
            while (!live.isEmpty() && now - live.peekFirst().registeredNanos >= windowNanos) {
                retire(live.pollFirst());
                changed = true;
            }
            if (changed) {
                rebuild();
            }
            retired.removeIf(Counter::confirmed);
            due = new ArrayList<>(live.size() + retired.size());
            due.addAll(live);
            due.addAll(retired);
        }
        long at = wallClock.getAsLong();
        for (Counter c : due) {
            long total = c.total();
            if (c.resend) {
                c.resend = false;
                c.handedOver = -1;
            }
            if (total > c.handedOver && total > 0) {
                AckRecord r = AckRecord.count(c.appId, c.msgId, at, brokerId, c.counterId, total);
                if (out.test(new Pending(r, c))) {
                    c.handedOver = total;
                    if (total > c.reported) {
                        counted.addAndGet(total - c.reported);
                        c.reported = total;
                    }
                }
            }
        }
    }

    /** Retires every counter (shutdown): their final totals go out with the next {@link #flush}. */
    public void retireAll() {
        synchronized (lock) {
            while (!live.isEmpty()) {
                retire(live.pollFirst());
            }
            rebuild();
        }
    }

    /** Counters not yet retired. */
    public int active() {
        return table.msgIds.length;
    }

    /** Retired counters whose final count Kafka has not confirmed. */
    public int unconfirmed() {
        synchronized (lock) {
            retired.removeIf(Counter::confirmed);
            return retired.size();
        }
    }

    /** Acks handed over in count records (by increase of their totals). */
    public long counted() {
        return counted.get();
    }

    /** Counted acks given up on: retired counters dropped while Kafka did not confirm them. */
    public long lost() {
        return lost.get();
    }

    private void retire(Counter c) {
        c.finalTotal = c.value.getAndSet(CLOSED);
        if (c.finalTotal == 0) {
            return; // nothing to report
        }
        // Bounded: while Kafka refuses everything, the oldest unconfirmed counts are given up on.
        if (retired.size() >= Math.max(capacity, 1)) {
            Counter dropped = retired.remove(0);
            lost.addAndGet(dropped.finalTotal - Math.max(0, dropped.confirmedTotal.get()));
        }
        retired.add(c);
    }

    private void rebuild() {
        Counter[] cs = live.toArray(Counter[]::new);
        Arrays.sort(cs, (a, b) -> Long.compare(a.msgId, b.msgId));
        long[] ids = new long[cs.length];
        for (int i = 0; i < cs.length; i++) {
            ids[i] = cs[i].msgId;
        }
        table = new Table(ids, cs);
    }

    private record Table(long[] msgIds, Counter[] counters) {
    }

    /** A count record on its way to Kafka: tell it how Kafka answered. */
    public record Pending(AckRecord record, Counter counter) {
        public void confirmed() {
            counter.confirmedTotal.accumulateAndGet(record.total(), Math::max);
        }

        /** Kafka refused it: the current total is sent again on the next flush. */
        public void failed() {
            counter.resend = true;
        }
    }

    /** One broadcast's counter. */
    public static final class Counter {
        final String appId;
        final long msgId;
        final String counterId;
        final long registeredNanos;
        final AtomicLong value = new AtomicLong();
        final AtomicLong confirmedTotal = new AtomicLong(-1);
        /** Set once, under the lock, when retired. */
        volatile long finalTotal = -1;
        /** Total last handed to Kafka; reset when Kafka refused it (flushing thread only). */
        long handedOver = -1;
        /** Highest total ever handed to Kafka, for the metric (flushing thread only). */
        long reported;
        volatile boolean resend;

        Counter(String appId, long msgId, String counterId, long registeredNanos) {
            this.appId = appId;
            this.msgId = msgId;
            this.counterId = counterId;
            this.registeredNanos = registeredNanos;
        }

        /** The final total once retired, else the running one (negative for a moment while retiring). */
        long total() {
            long f = finalTotal;
            return f >= 0 ? f : value.get();
        }

        boolean confirmed() {
            return finalTotal >= 0 && confirmedTotal.get() >= finalTotal;
        }
    }
}
