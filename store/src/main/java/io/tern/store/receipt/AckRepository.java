package io.tern.store.receipt;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.netty.util.collection.LongObjectHashMap;
import io.tern.store.Keys;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.callback.ParkedReceipt;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.DeviceHash;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Records acks: single-push messages become delivered, task copies count once per device, and
 * a broadcast's acks, per device or in a broker's count record, count at most once per device:
 * exactly, through the broadcast's set of counted devices ({@link CountedDevices}), or, for a
 * broadcast with a callback (its receipts are per device), through its ack filter (a Bloom filter:
 * see docs/architecture.md).
 * A device ack applies only to what was sent to that device (a message with its app and regId,
 * a task of its app): a forged or foreign msgId changes nothing and parks no receipt.
 * An ack's callback receipt is recorded as owed with the ack (same script) and stays so until it is parked in
 * the callback outbox: no crash in between can lose the callback.
 */
public final class AckRepository {
    private static final LuaScript DEVICE = LuaScript.load("ack-device");
    private static final LuaScript TASK = LuaScript.load("ack-task", "ack-filter");
    private static final LuaScript PARK = LuaScript.load("callback-park");
    private static final AppliedAck.Target[] TARGETS = AppliedAck.Target.values();

    private final RedisStore redis;
    private final long callbackLeaseMillis;
    private final int outboxMax;
    private final CountedDevices counted;

    /**
     * @param callbackLease how long the node applying an ack holds the receipt it parks before any node may take it
     * @param outboxMax     receipts parked at most in the callback outbox ({@code logic.callback.outbox-max})
     * @param countedMax    devices of broadcasts' counted sets held in memory ({@code logic.receipt-counted-max})
     */
    public AckRepository(RedisStore redis, Duration callbackLease, int outboxMax, long countedMax) {
        if (outboxMax < 1) {
            throw new IllegalArgumentException("outboxMax must be >= 1: " + outboxMax);
        }
        this.redis = redis;
        this.callbackLeaseMillis = callbackLease.toMillis();
        this.outboxMax = outboxMax;
        this.counted = new CountedDevices(redis, countedMax);
    }

    public CompletableFuture<AppliedAck> apply(AckRecord ack, long nowMillis) {
        return applyAll(List.of(ack), nowMillis).thenApply(r -> r.get(0));
    }

    /**
     * Applies device acks in order; what each changed, in the same order. A first receipt with a callback URL is
     * parked in the {@link CallbackOutbox}, leased until {@code nowMillis} plus the callback lease. Fails with
     * {@link CallbackOutbox.FullException} when those receipts would not fit in the outbox: the acks are then
     * applied but their receipts stay owed where they were recorded, and applying the acks again (Kafka re-reads
     * them) parks them.
     * <p>Steps, each a flush (see the scripts for what a crash between them leaves): 1 for the batch on one Redis,
     * per device on a cluster ({@code ack-device.lua}: queue entry, single push); 2 per task, only for acks that were no single push
     * ({@code ack-task.lua}), then, for acks of broadcasts without a callback, one per such broadcast
     * ({@link CountedDevices}); 3 and 4 only when a receipt is to be parked ({@code callback-park.lua}, then the
     * owed receipts cleared). So an ack of a single push without a callback is one round trip.
     * The caller bounds the list: each script holds Redis for its share of it (the whole list on one Redis).
     */
    public CompletableFuture<List<AppliedAck>> applyAll(List<AckRecord> acks, long nowMillis) {
        int n = acks.size();
        if (n == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        Map<String, List<Integer>> byDevice = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            AckRecord ack = acks.get(i);
            if (ack.isCount()) {
                throw new IllegalArgumentException("a count is applied with applyCount: " + ack);
            }
            byDevice.computeIfAbsent(Keys.queue(ack.appId(), ack.regId()), k -> new ArrayList<>()).add(i);
        }
        var async = redis.async();
        Step[] steps = new Step[n];
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (List<List<Integer>> call : redis.scriptCalls(byDevice.values())) {
            calls.add(applyDevices(async, acks, call, nowMillis, steps));
        }
        return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                .thenCompose(x -> applyTasks(acks, steps))
                .thenCompose(x -> park(acks, steps, nowMillis));
    }

    /** Step 1 for {@code devices} (each a list of indexes into {@code acks}, one device's) in one script call. */
    private static CompletableFuture<Void> applyDevices(RedisClusterAsyncCommands<String, String> async,
                                                        List<AckRecord> acks, List<List<Integer>> devices,
                                                        long nowMillis, Step[] steps) {
        int count = 0;
        for (List<Integer> device : devices) {
            count += device.size();
        }
        String[] keys = new String[devices.size() + count];
        String[] args = new String[1 + 3 * devices.size() + 2 * count];
        args[0] = Long.toString(nowMillis);
        int k = 0;
        int a = 1;
        for (List<Integer> device : devices) {
            AckRecord first = acks.get(device.get(0));
            keys[k++] = Keys.queue(first.appId(), first.regId());
            args[a++] = first.appId();
            args[a++] = first.regId();
            args[a++] = Integer.toString(device.size());
            for (int i : device) {
                AckRecord ack = acks.get(i);
                keys[k++] = Keys.message(ack.appId(), ack.regId(), ack.msgId());
                args[a++] = Long.toString(ack.msgId());
                args[a++] = Long.toString(ack.ackedAtMillis());
            }
        }
        return DEVICE.<List<Object>>run(async, ScriptOutputType.MULTI, keys, args).thenAccept(r -> {
            int j = 0;
            for (List<Integer> device : devices) {
                for (int i : device) {
                    steps[i] = new Step((Long) r.get(4 * j), (Long) r.get(4 * j + 1) == 1L,
                            (Long) r.get(4 * j + 2) == 1L, (String) r.get(4 * j + 3));
                    j++;
                }
            }
        });
    }

    /** What one ack's step 1 (then step 2) found: kind as {@link AppliedAck.Target} ordinal. */
    private record Step(long kind, boolean counted, boolean removed, String receipt) {
    }

    private CompletableFuture<Void> applyTasks(List<AckRecord> acks, Step[] steps) {
        Map<Long, List<Integer>> byTask = new LinkedHashMap<>();
        for (int i = 0; i < steps.length; i++) {
            if (steps[i].kind() == 0) {
                byTask.computeIfAbsent(acks.get(i).msgId(), k -> new ArrayList<>()).add(i);
            }
        }
        var async = redis.async();
        List<CompletableFuture<Void>> tasks = new ArrayList<>(byTask.size());
        byTask.forEach((taskId, list) -> {
            String[] args = new String[1 + 5 * list.size()];
            args[0] = Long.toString(taskId);
            long[] hashes = new long[list.size()];
            for (int j = 0; j < list.size(); j++) {
                AckRecord ack = acks.get(list.get(j));
                int a = 1 + 5 * j;
                hashes[j] = DeviceHash.of(ack.regId());
                args[a] = ack.appId();
                args[a + 1] = ack.regId();
                args[a + 2] = DeviceHash.hex(hashes[j]);
                args[a + 3] = steps[list.get(j)].removed() ? "1" : "0";
                args[a + 4] = Long.toString(ack.ackedAtMillis());
            }
            tasks.add(TASK.<List<Object>>run(async, ScriptOutputType.MULTI,
                    new String[]{Keys.task(taskId), Keys.taskAckFilter(taskId)}, args).thenCompose(r -> {
                        List<Integer> bySet = new ArrayList<>();
                        for (int j = 0; j < list.size(); j++) {
                            long counted = (Long) r.get(3 * j + 1);
                            steps[list.get(j)] = new Step((Long) r.get(3 * j), counted == 1L,
                                    false, (String) r.get(3 * j + 2));
                            if (counted == 2L) {
                                bySet.add(j);
                            }
                        }
                        return bySet.isEmpty() ? CompletableFuture.completedFuture(null)
                                : countBySet(taskId, list, hashes, bySet, steps);
                    }));
        });
        return CompletableFuture.allOf(tasks.toArray(CompletableFuture[]::new));
    }

    /**
     * Counts device acks of a broadcast without a callback through its set, as its count records are: those at
     * {@code bySet}, positions in the task's {@code list} of ack indexes and in {@code hashes}, its devices' hashes.
     */
    private CompletableFuture<Void> countBySet(long taskId, List<Integer> list, long[] hashes, List<Integer> bySet,
                                               Step[] steps) {
        long[] setHashes = new long[bySet.size()];
        for (int j = 0; j < setHashes.length; j++) {
            setHashes[j] = hashes[bySet.get(j)];
        }
        return counted.add(taskId, setHashes).thenAccept(fresh -> {
            if (fresh == null) {
                return;
            }
            LongObjectHashMap<Boolean> isNew = new LongObjectHashMap<>(fresh.length);
            for (long h : fresh) {
                isNew.put(h, Boolean.TRUE);
            }
            for (int j = 0; j < setHashes.length; j++) {
                // A device acked twice in the batch counts on its first ack only.
                boolean first = isNew.remove(setHashes[j]) != null;
                int i = list.get(bySet.get(j));
                steps[i] = new Step(steps[i].kind(), first, false, steps[i].receipt());
            }
        });
    }

    private CompletableFuture<List<AppliedAck>> park(List<AckRecord> acks, Step[] steps, long nowMillis) {
        List<AppliedAck> out = new ArrayList<>(steps.length);
        List<String> args = new ArrayList<>();
        args.add(Long.toString(nowMillis + callbackLeaseMillis));
        args.add(Integer.toString(outboxMax));
        for (Step s : steps) {
            ParkedReceipt parked = s.receipt() == null ? null : ParkedReceipt.decode(s.receipt());
            out.add(new AppliedAck(TARGETS[(int) s.kind()], s.counted(), parked));
            if (parked != null) {
                args.add(parked.id());
                args.add(s.receipt());
            }
        }
        if (args.size() == 2) {
            return CompletableFuture.completedFuture(out);
        }
        var async = redis.async();
        return PARK.<Long>run(async, ScriptOutputType.INTEGER, new String[]{Keys.callbacksDue(), Keys.callbackItems()},
                args.toArray(String[]::new)).thenCompose(r -> {
                    if (r < 0) {
                        throw new CallbackOutbox.FullException(outboxMax);
                    }
                    // Parked: no longer owed (a crash before this parks them again on replay: at least once).
                    List<CompletableFuture<Long>> cleared = new ArrayList<>();
                    for (int i = 0; i < steps.length; i++) {
                        AppliedAck a = out.get(i);
                        if (a.parked() == null) {
                            continue;
                        }
                        AckRecord ack = acks.get(i);
                        cleared.add((a.target() == AppliedAck.Target.TASK
                                ? async.hdel(Keys.task(ack.msgId()), "owed:" + a.parked().id())
                                : async.hdel(Keys.message(ack.appId(), ack.regId(), ack.msgId()), "owed"))
                                .toCompletableFuture());
                    }
                    return CompletableFuture.allOf(cleared.toArray(CompletableFuture[]::new)).thenApply(x -> out);
                });
    }

    /** Devices of broadcasts' counted sets this node holds in memory (a gauge). */
    public long countedDevicesHeld() {
        return counted.held();
    }

    /**
     * Adds the devices of a count record not counted before for the broadcast (by any path: a replayed record,
     * a device counted on another broker or per device) to the task's delivered counter ({@link CountedDevices}).
     *
     * @return acks added, -1 when the task is unknown or past its retention
     */
    public CompletableFuture<Long> applyCount(AckRecord count) {
        if (!count.isCount()) {
            throw new IllegalArgumentException("not a count: " + count);
        }
        return counted.add(count.msgId(), count.deviceHashes()).thenApply(fresh -> fresh == null ? -1L : fresh.length);
    }
}
