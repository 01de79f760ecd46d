package io.tern.store.receipt;

import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import io.tern.store.topic.AckRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Records acks: single-push messages become delivered, task copies count once per device, and
 * a broadcast's acks, per device or in a broker's count record, count at most once per device
 * through the broadcast's ack filter (a Bloom filter: see docs/architecture.md).
 * A device ack applies only to what was sent to that device (a message with its app and regId,
 * a task of its app): a forged or foreign msgId changes nothing and returns no callback.
 */
public final class AckRepository {
    private static final LuaScript APPLY = LuaScript.load("ack-apply", "ack-filter");
    private static final LuaScript COUNT = LuaScript.load("ack-count", "ack-filter");
    private static final AppliedAck.Target[] TARGETS = AppliedAck.Target.values();

    private final RedisStore redis;

    public AckRepository(RedisStore redis) {
        this.redis = redis;
    }

    public CompletableFuture<AppliedAck> apply(AckRecord ack, long nowMillis) {
        return applyAll(List.of(ack), nowMillis).thenApply(r -> r.get(0));
    }

    /**
     * Applies device acks in order, in one script call; what each changed, in the same order.
     * The caller bounds the list: the script holds Redis for the whole list.
     */
    public CompletableFuture<List<AppliedAck>> applyAll(List<AckRecord> acks, long nowMillis) {
        int n = acks.size();
        if (n == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        String[] keys = new String[4 * n];
        String[] args = new String[4 * n + 1];
        args[0] = Long.toString(nowMillis);
        for (int i = 0; i < n; i++) {
            AckRecord ack = acks.get(i);
            if (ack.isCount()) {
                throw new IllegalArgumentException("a count is applied with applyCount: " + ack);
            }
            keys[4 * i] = Keys.message(ack.msgId());
            keys[4 * i + 1] = Keys.queue(ack.appId(), ack.regId());
            keys[4 * i + 2] = Keys.task(ack.msgId());
            keys[4 * i + 3] = Keys.taskAckFilter(ack.msgId());
            args[4 * i + 1] = Long.toString(ack.msgId());
            args[4 * i + 2] = ack.appId();
            args[4 * i + 3] = ack.regId();
            args[4 * i + 4] = DeviceHash.hex(DeviceHash.of(ack.regId()));
        }
        return APPLY.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, keys, args).thenApply(r -> {
            List<AppliedAck> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int at = 4 * i;
                out.add(new AppliedAck(TARGETS[((Long) r.get(at)).intValue()], ((Long) r.get(at + 1)) == 1L,
                        (String) r.get(at + 2), (String) r.get(at + 3)));
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
