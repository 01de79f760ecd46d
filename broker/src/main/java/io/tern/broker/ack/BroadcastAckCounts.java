package io.tern.broker.ack;

import io.tern.store.topic.DeviceHash;
import io.tern.store.topic.AckRecord;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Collects device acks of the broadcasts this broker is writing, so that a broadcast costs one
 * ack record per flush (8 bytes a device) instead of one record per device. A broadcast is
 * registered when it starts (the most recent {@code capacity} ones, each for {@code window}); an
 * ack of a registered msgId puts the device's {@link DeviceHash} into the counter's buffer: one
 * atomic slot reservation on the event loop, no lock, no allocation. {@link #flush} swaps each
 * buffer that moved for an empty one and hands its hashes over in count records of at most
 * {@code recordMax} devices. The receipt consumer adds each device to the broadcast's ack filter,
 * so a device counts at most once however often, and on however many brokers, it acks, and a
 * record sent twice (a retry, a Kafka replay) adds nothing the second time.
 * <p>
 * A full buffer, or a retired counter (age, capacity, close), answers false: that ack goes per
 * device instead, into the same filter, so no ack is lost between the two paths.
 * <p>
 * Threads: {@link #count} from any event loop (lock-free, reads a copy-on-write table),
 * {@link #register} from the internal port's loops (short lock, no I/O), {@link #flush} and
 * {@link #retireAll} from the ack publisher's thread; {@link Pending} callbacks from Kafka's.
 */
public final class BroadcastAckCounts {
    /** A retired counter's buffer: no room, so every ack goes per device. */
    private static final Buffer CLOSED = new Buffer(0);

    private final String brokerId;
    private final int capacity;
    private final long windowNanos;
    private final int bufferSize;
    private final int recordMax;
    private final LongSupplier nanoClock;
    private final LongSupplier wallClock;
    private final Object lock = new Object();
    /** Sorted by msgId, replaced on every change: readers never lock. */
    private volatile Table table = new Table(new long[0], new Counter[0]);
    /** Live counters, oldest first (guarded by lock). */
    private final ArrayDeque<Counter> live = new ArrayDeque<>();
    /** Retired counters with hashes not yet confirmed by Kafka (guarded by lock). */
    private final List<Counter> retired = new ArrayList<>();
    private final AtomicLong counted = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();

    /**
     * @param capacity   broadcasts counted at once; 0 counts none
     * @param bufferSize acks one broadcast buffers between two flushes; beyond, acks go per device
     * @param recordMax  devices in one count record at most
     * @param nanoClock  for counter ages
     * @param wallClock  epoch millis stamped on count records
     */
    public BroadcastAckCounts(String brokerId, int capacity, Duration window, int bufferSize, int recordMax,
                              LongSupplier nanoClock, LongSupplier wallClock) {
        if (capacity < 0 || bufferSize < 1 || recordMax < 1) {
            throw new IllegalArgumentException("capacity >= 0, bufferSize >= 1 and recordMax >= 1 required");
        }
        this.brokerId = brokerId;
        this.capacity = capacity;
        this.windowNanos = window.toNanos();
        this.bufferSize = bufferSize;
        this.recordMax = recordMax;
        this.nanoClock = nanoClock;
        this.wallClock = wallClock;
    }

    /**
     * Counts a device's ack of {@code msgId} if it is a registered broadcast with buffer room.
     *
     * @param deviceHash the device's {@link DeviceHash#of}, hashed once per connection (not per ack)
     * @return false when it is not counted here: publish it per device
     */
    public boolean count(long msgId, long deviceHash) {
        Table t = table;
        int i = Arrays.binarySearch(t.msgIds, msgId);
        if (i < 0) {
            return false;
        }
        Buffer b = t.counters[i].buffer.get();
        int at = b.reserved.getAndIncrement();
        if (at < 0 || at >= b.hashes.length) {
            return false; // full, or drained already (a writer that read the buffer just before the swap)
        }
        b.hashes[at] = deviceHash;
        b.written.incrementAndGet();
        return true;
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
            live.addLast(new Counter(appId, msgId, now, new Buffer(bufferSize)));
            rebuild();
        }
    }

    /**
     * Retires counters past the window, then hands {@code out} the devices counted since the last
     * flush (and those of records Kafka refused), as count records. {@code out} returns false when
     * it could not take a record now; it is offered again next time.
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
            retired.removeIf(Counter::settled);
            due = new ArrayList<>(live.size() + retired.size());
            due.addAll(live);
            due.addAll(retired);
        }
        long at = wallClock.getAsLong();
        for (Counter c : due) {
            c.collect(bufferSize);
            long[] refused;
            while ((refused = c.refused.poll()) != null) {
                c.unsent.addFirst(refused);
            }
            c.split(recordMax);
            while (!c.unsent.isEmpty()) {
                long[] hashes = c.unsent.peekFirst();
                c.inFlight.incrementAndGet();
                if (!out.test(new Pending(AckRecord.count(c.appId, c.msgId, at, brokerId, hashes), c, hashes))) {
                    c.inFlight.decrementAndGet();
                    break;
                }
                c.unsent.pollFirst();
                counted.addAndGet(hashes.length);
            }
        }
    }

    /** Retires every counter (shutdown): their last devices go out with the next {@link #flush}. */
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

    /** Retired counters with devices Kafka has not confirmed. */
    public int unconfirmed() {
        synchronized (lock) {
            retired.removeIf(Counter::settled);
            return retired.size();
        }
    }

    /** Acks handed over in count records (a record Kafka refused and that went again counts twice here). */
    public long counted() {
        return counted.get();
    }

    /** Counted acks given up on: retired counters dropped while Kafka did not confirm them. */
    public long lost() {
        return lost.get();
    }

    private void retire(Counter c) {
        c.retiredBuffer = c.buffer.getAndSet(CLOSED);
        // Bounded: while Kafka refuses everything, the oldest unconfirmed counts are given up on.
        if (retired.size() >= Math.max(capacity, 1)) {
            Counter dropped = retired.remove(0);
            lost.addAndGet(dropped.pendingDevices());
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
    public static final class Pending {
        private final AckRecord record;
        private final Counter counter;
        private final long[] hashes;

        Pending(AckRecord record, Counter counter, long[] hashes) {
            this.record = record;
            this.counter = counter;
            this.hashes = hashes;
        }

        public AckRecord record() {
            return record;
        }

        public void confirmed() {
            counter.inFlight.decrementAndGet();
        }

        /** Kafka refused it: the same devices are sent again on the next flush. */
        public void failed() {
            counter.refused.add(hashes);
            counter.inFlight.decrementAndGet();
        }
    }

    /** Slots for device hashes; writers reserve a slot, then write it, then say so. */
    private static final class Buffer {
        /** Reservations after a drain start here: past every buffer's end, far from overflowing. */
        static final int DRAINED = Integer.MAX_VALUE / 2;
        final long[] hashes;
        final AtomicInteger reserved = new AtomicInteger();
        final AtomicInteger written = new AtomicInteger();

        Buffer(int size) {
            hashes = new long[size];
        }

        /**
         * Closes the buffer to further writers (they answer "per device"), then returns the written
         * hashes once every writer that reserved a slot has written it.
         */
        long[] drain() {
            int n = Math.min(reserved.getAndSet(DRAINED), hashes.length);
            while (written.get() < n) {
                Thread.onSpinWait(); // a writer between its reservation and its write: nanoseconds
            }
            return Arrays.copyOf(hashes, n);
        }
    }

    /** One broadcast's counter. */
    static final class Counter {
        final String appId;
        final long msgId;
        final long registeredNanos;
        final AtomicReference<Buffer> buffer;
        /** Set once, under the lock, when retired: the last buffer, drained by the next flush. */
        volatile Buffer retiredBuffer;
        /** Device hashes collected, not yet handed to Kafka (flushing thread only). */
        final ArrayDeque<long[]> unsent = new ArrayDeque<>();
        /** Records Kafka refused (its callback thread adds, the flushing thread takes). */
        final ConcurrentLinkedQueue<long[]> refused = new ConcurrentLinkedQueue<>();
        final AtomicInteger inFlight = new AtomicInteger();

        Counter(String appId, long msgId, long registeredNanos, Buffer first) {
            this.appId = appId;
            this.msgId = msgId;
            this.registeredNanos = registeredNanos;
            this.buffer = new AtomicReference<>(first);
        }

        /** Moves what the buffer holds to {@link #unsent} (flushing thread). */
        void collect(int bufferSize) {
            Buffer old;
            Buffer last = retiredBuffer;
            if (last != null) {
                retiredBuffer = null;
                old = last;
            } else {
                Buffer current = buffer.get();
                if (current == CLOSED || current.reserved.get() == 0) {
                    return;
                }
                // Swapped only if not retired meanwhile: a retired buffer is taken above, next time.
                if (!buffer.compareAndSet(current, new Buffer(bufferSize))) {
                    return;
                }
                old = current;
            }
            long[] hashes = old.drain();
            if (hashes.length > 0) {
                unsent.addLast(hashes);
            }
        }

        /** Splits unsent batches into records of at most {@code max} devices. */
        void split(int max) {
            if (unsent.stream().allMatch(h -> h.length <= max)) {
                return;
            }
            List<long[]> all = new ArrayList<>(unsent);
            unsent.clear();
            for (long[] h : all) {
                for (int from = 0; from < h.length; from += max) {
                    unsent.addLast(Arrays.copyOfRange(h, from, Math.min(h.length, from + max)));
                }
            }
        }

        long pendingDevices() {
            long n = 0;
            for (long[] h : unsent) {
                n += h.length;
            }
            for (long[] h : refused) {
                n += h.length;
            }
            Buffer last = retiredBuffer;
            if (last != null) {
                n += Math.min(last.reserved.get(), last.hashes.length);
            }
            return n;
        }

        boolean settled() {
            return retiredBuffer == null && unsent.isEmpty() && refused.isEmpty() && inFlight.get() == 0;
        }
    }
}
