package io.tern.store.receipt;

import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.callback.CallbackOutbox;
import io.tern.store.callback.ParkedReceipt;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.DeviceHash;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Records acks: single-push messages become delivered, task copies count once per device, and
 * a broadcast's acks, per device or in a broker's count record, count at most once per device
 * through the broadcast's ack filter (a Bloom filter: see docs/architecture.md).
 * A device ack applies only to what was sent to that device (a message with its app and regId,
 * a task of its app): a forged or foreign msgId changes nothing and parks no receipt.
 * Recording an ack and parking its callback receipt are one script run ({@code ack-apply.lua}): no crash in
 * between can lose the callback.
 */
public final class AckRepository {
    private static final LuaScript APPLY = LuaScript.load("ack-apply", "ack-filter");
    private static final LuaScript COUNT = LuaScript.load("ack-count", "ack-filter");
    private static final AppliedAck.Target[] TARGETS = AppliedAck.Target.values();

    private final RedisStore redis;
    private final long callbackLeaseMillis;
    private final int outboxMax;

    /**
     * @param callbackLease how long the node applying an ack holds the receipt it parks before any node may take it
     * @param outboxMax     receipts parked at most in the callback outbox ({@code logic.callback.outbox-max})
     */
    public AckRepository(RedisStore redis, Duration callbackLease, int outboxMax) {
        if (outboxMax < 1) {
            throw new IllegalArgumentException("outboxMax must be >= 1: " + outboxMax);
        }
        this.redis = redis;
        this.callbackLeaseMillis = callbackLease.toMillis();
        this.outboxMax = outboxMax;
    }

    public CompletableFuture<AppliedAck> apply(AckRecord ack, long nowMillis) {
        return applyAll(List.of(ack), nowMillis).thenApply(r -> r.get(0));
    }

    /**
     * Applies device acks in order, in one script call; what each changed, in the same order. A first receipt
     * with a callback URL is parked in the {@link CallbackOutbox} by the same call, leased until
     * {@code nowMillis} plus the callback lease. Fails with {@link CallbackOutbox.FullException}, having changed
     * nothing, when those receipts would not fit in the outbox.
     * The caller bounds the list: the script holds Redis for the whole list.
     */
    public CompletableFuture<List<AppliedAck>> applyAll(List<AckRecord> acks, long nowMillis) {
        int n = acks.size();
        if (n == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        String[] keys = new String[2 + 4 * n];
        String[] args = new String[3 + 5 * n];
        keys[0] = Keys.callbacksDue();
        keys[1] = Keys.callbackItems();
        args[0] = Long.toString(nowMillis);
        args[1] = Long.toString(nowMillis + callbackLeaseMillis);
        args[2] = Integer.toString(outboxMax);
        for (int i = 0; i < n; i++) {
            AckRecord ack = acks.get(i);
            if (ack.isCount()) {
                throw new IllegalArgumentException("a count is applied with applyCount: " + ack);
            }
            int k = 2 + 4 * i;
            keys[k] = Keys.message(ack.msgId());
            keys[k + 1] = Keys.queue(ack.appId(), ack.regId());
            keys[k + 2] = Keys.task(ack.msgId());
            keys[k + 3] = Keys.taskAckFilter(ack.msgId());
            int a = 3 + 5 * i;
            args[a] = Long.toString(ack.msgId());
            args[a + 1] = ack.appId();
            args[a + 2] = ack.regId();
            args[a + 3] = DeviceHash.hex(DeviceHash.of(ack.regId()));
            args[a + 4] = Long.toString(ack.ackedAtMillis());
        }
        return APPLY.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, keys, args).thenApply(r -> {
            if (r.size() == 1) {
                throw new CallbackOutbox.FullException(outboxMax);
            }
            List<AppliedAck> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int at = 3 * i;
                String parked = (String) r.get(at + 2);
                out.add(new AppliedAck(TARGETS[((Long) r.get(at)).intValue()], ((Long) r.get(at + 1)) == 1L,
                        parked == null ? null : ParkedReceipt.decode(parked)));
            }
            return out;
        });
    }
    /**
     * Adds the devices of a count record that are new in the broadcast's ack filter to the task's
     * delivered counter; a replay, or a device already counted by any path, adds nothing.
     *
     * @return acks added, -1 when the task is unknown or past its retention
     */
    public CompletableFuture<Long> applyCount(AckRecord count) {
        if (!count.isCount()) {
            throw new IllegalArgumentException("not a count: " + count);
        }
        return COUNT.run(redis.async(), ScriptOutputType.INTEGER,
                new String[]{Keys.task(count.msgId()), Keys.taskAckFilter(count.msgId())}, count.hashesHex());
    }
}
