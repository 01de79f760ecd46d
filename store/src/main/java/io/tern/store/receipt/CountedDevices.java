package io.tern.store.receipt;

import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.ByteArrayOutput;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import org.agrona.collections.LongHashSet;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Counts each device's ack of a broadcast without a callback at most once, exactly: the devices counted so far are
 * the broadcast's set string in Redis (8 bytes a device, appended, never rewritten: {@code ack-set-append.lua}), and
 * this node holds the sets of the broadcasts it counts in memory. A count record costs Redis one {@code APPEND} of
 * the devices new to the set and nothing for those already in it (a replay costs no Redis call at all), where a
 * Bloom filter set k bits a device with one argument each (3.5 µs of Redis CPU a device at k = 2, the counting's
 * ceiling in issue 14's runs).
 * <p>Any node may count any broadcast: the append happens only if the string still has the length this node's set
 * was built from, else the node reads the part it missed ({@code GETRANGE}) and tries again. Count records are keyed
 * by broadcast, so one node usually holds a broadcast's set; a rebalance or a per-device ack read on another node
 * costs a read of the string, never a double count.
 * <p>Bounded: at most {@code maxDevices} devices are held across broadcasts, the least recently counted
 * broadcasts dropped first (read again from Redis when their acks come back). Each broadcast's work is one chain,
 * so its set is never changed by two threads at once.
 */
public final class CountedDevices {
    private static final LuaScript APPEND = LuaScript.load("ack-set-append");
    /** Tries per add: each lost race reads what the other writer appended, so a second try nearly always wins. */
    private static final int ATTEMPTS = 8;

    private final RedisStore redis;
    private final long maxDevices;
    /** Access order: the eldest is the broadcast counted least recently. Guarded by itself. */
    private final LinkedHashMap<Long, Counted> sets = new LinkedHashMap<>(16, 0.75f, true);
    /** The devices of the broadcasts in {@link #sets}, as last accounted for each. Guarded by {@link #sets}. */
    private long held;

    /** @param maxDevices devices held in memory across broadcasts ({@code logic.receipt-counted-max}) */
    public CountedDevices(RedisStore redis, long maxDevices) {
        if (maxDevices < 1) {
            throw new IllegalArgumentException("maxDevices must be >= 1: " + maxDevices);
        }
        this.redis = redis;
        this.maxDevices = maxDevices;
    }

    /**
     * Counts the devices of {@code hashes} not counted before for broadcast {@code taskId} (duplicates in
     * {@code hashes} count once) into its delivered counter.
     *
     * @return the hashes that were new, in order; null when the task is unknown or past its retention
     */
    public CompletableFuture<long[]> add(long taskId, long[] hashes) {
        Counted c;
        synchronized (sets) {
            c = sets.computeIfAbsent(taskId, Counted::new);
        }
        CompletableFuture<long[]> done;
        synchronized (c) {
            done = c.tail.handle((x, e) -> null).thenCompose(x -> attempt(c, hashes, ATTEMPTS));
            c.tail = done;
        }
        return done.whenComplete((r, e) -> trim(c));
    }

    /** Devices held in memory now (for tests and metrics). */
    public long held() {
        synchronized (sets) {
            return held;
        }
    }

    /** Broadcasts whose sets are held (for tests). */
    int broadcastsHeld() {
        synchronized (sets) {
            return sets.size();
        }
    }

    private CompletableFuture<long[]> attempt(Counted c, long[] hashes, int attempts) {
        long[] fresh = c.claim(hashes);
        if (fresh.length == 0) {
            return CompletableFuture.completedFuture(fresh);
        }
        ByteBuffer blob = ByteBuffer.allocate(8 * fresh.length);
        for (long h : fresh) {
            blob.putLong(h);
        }
        return append(c.taskId, c.length, blob.array()).whenComplete((r, e) -> {
            if (e != null || r < 0) {
                c.unclaim(fresh); // not appended to the string, so not in the set either
            }
        }).thenCompose(r -> {
            if (r == -1) {
                return CompletableFuture.completedFuture(null);
            }
            if (r >= 0) {
                c.length = r;
                return CompletableFuture.completedFuture(fresh);
            }
            if (attempts <= 1) {
                return CompletableFuture.failedFuture(new IllegalStateException(
                        "counted devices of task " + c.taskId + " kept changing under " + ATTEMPTS + " tries"));
            }
            long actual = -2 - r;
            return catchUp(c, actual).thenCompose(x -> attempt(c, hashes, attempts - 1));
        });
    }

    /** Brings {@code c} to the string's {@code actual} length: reads the tail it missed, or all of a shorter string. */
    private CompletableFuture<Void> catchUp(Counted c, long actual) {
        long from = actual >= c.length ? c.length : 0;
        if (from == 0 && c.length > 0) {
            // The string is shorter than what this node read (lost and restored with Redis): start again from it.
            c.clear();
        }
        if (actual == from) {
            c.length = actual;
            return CompletableFuture.completedFuture(null);
        }
        CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).addKey(Keys.taskAckSet(c.taskId))
                .add(from).add(actual - 1);
        return redis.async().dispatch(CommandType.GETRANGE, new ByteArrayOutput<>(StringCodec.UTF8), args)
                .toCompletableFuture().thenAccept(bytes -> {
                    if (bytes == null || bytes.length % 8 != 0 || from + bytes.length != actual) {
                        throw new IllegalStateException("counted devices of task " + c.taskId + ": read "
                                + (bytes == null ? 0 : bytes.length) + " bytes at " + from + ", expected up to " + actual);
                    }
                    ByteBuffer in = ByteBuffer.wrap(bytes);
                    long[] read = new long[bytes.length / 8];
                    for (int i = 0; i < read.length; i++) {
                        read[i] = in.getLong();
                    }
                    c.addAll(read);
                    c.length = actual;
                });
    }

    /** The hashes go as one raw-bytes argument, which the store's String codec could not carry. */
    private CompletableFuture<Long> append(long taskId, long expected, byte[] blob) {
        return APPEND.dispatch(redis.async(), () -> new IntegerOutput<>(StringCodec.UTF8),
                new String[]{Keys.task(taskId), Keys.taskAckSet(taskId)}, args -> args.add(expected).add(blob));
    }

    /**
     * Accounts for what {@code changed}'s add did to it, unless it was dropped meanwhile (its count left the total
     * then), and drops the least recently counted broadcasts while more than {@code maxDevices} are held.
     */
    private void trim(Counted changed) {
        synchronized (sets) {
            if (sets.get(changed.taskId) == changed) {
                int size = changed.size();
                held += size - changed.accounted;
                changed.accounted = size;
                if (size == 0) {
                    // Nothing counted (a task past its retention, a failed add): no entry, so acks for many unknown
                    // tasks cannot grow the map past the device bound.
                    sets.remove(changed.taskId);
                }
            }
            Iterator<Map.Entry<Long, Counted>> eldest = sets.entrySet().iterator();
            while (held > maxDevices && eldest.hasNext()) {
                Counted c = eldest.next().getValue();
                eldest.remove();
                held -= c.accounted;
            }
        }
    }

    /** One broadcast's counted devices as this node read them: the string's first {@code length} bytes. */
    private static final class Counted {
        final long taskId;
        // One array of longs: half the bytes a device of a LongObjectHashMap (keys and values), one cache line a probe.
        final LongHashSet devices = new LongHashSet();
        /** Devices of this broadcast in {@link #held}. Guarded by {@link #sets}. */
        int accounted;
        /** Bytes of the set string these devices are. Changed only on the chain. */
        volatile long length;
        /** The last add of this broadcast: the next one runs after it. Guarded by this. */
        CompletableFuture<?> tail = CompletableFuture.completedFuture(null);

        Counted(long taskId) {
            this.taskId = taskId;
        }

        /**
         * Puts the hashes the set does not hold yet into it (each once) and returns them in order: claimed ahead of
         * the append, one probe a device, and taken out again ({@link #unclaim}) if the append does not happen.
         */
        synchronized long[] claim(long[] hashes) {
            long[] out = new long[hashes.length];
            int n = 0;
            for (long h : hashes) {
                if (devices.add(h)) {
                    out[n++] = h;
                }
            }
            return n == hashes.length ? out : Arrays.copyOf(out, n);
        }

        synchronized void unclaim(long[] hashes) {
            for (long h : hashes) {
                devices.remove(h);
            }
        }

        synchronized void addAll(long[] hashes) {
            for (long h : hashes) {
                devices.add(h);
            }
        }

        synchronized void clear() {
            devices.clear();
            length = 0;
        }

        synchronized int size() {
            return devices.size();
        }
    }
}
