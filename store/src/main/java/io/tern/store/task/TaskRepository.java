package io.tern.store.task;

import io.lettuce.core.ScriptOutputType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Group-push tasks: one stored body per task, its state, its counters, and queued copies. */
public final class TaskRepository {
    private static final LuaScript QUEUE_ADD = LuaScript.load("queue-add");
    private static final LuaScript RECALL = LuaScript.load("task-recall");

    private final RedisStore redis;
    private final QueuePolicy policy;

    public TaskRepository(RedisStore redis, QueuePolicy policy) {
        this.redis = redis;
        this.policy = policy;
    }

    public CompletableFuture<Void> create(TaskBody t, TaskState state) {
        Map<String, String> h = new HashMap<>();
        h.put("app", t.appId());
        h.put("kind", Integer.toString(t.kind().code()));
        h.put("payload", t.payload());
        h.put("created", Long.toString(t.createdAtMillis()));
        h.put("expires", Long.toString(t.expiresAtMillis()));
        h.put("sendAt", Long.toString(t.sendAtMillis()));
        h.put("state", state.wireName());
        if (t.callbackUrl() != null) {
            h.put("cbUrl", t.callbackUrl());
            h.put("cbParam", t.callbackParam() == null ? "" : t.callbackParam());
        }
        String key = Keys.task(t.taskId());
        var async = redis.async();
        var set = async.hset(key, h).toCompletableFuture();
        var ttl = async.pexpireat(key, t.expiresAtMillis() + policy.retention().toMillis()).toCompletableFuture();
        return CompletableFuture.allOf(set, ttl);
    }

    /** @return the task, or null when unknown or past its retention */
    public CompletableFuture<StoredTask> find(long taskId) {
        return redis.async().hgetall(Keys.task(taskId)).toCompletableFuture()
                .thenApply(h -> h.isEmpty() ? null : toTask(taskId, h));
    }

    /** Moves a task to {@code state} unless it was recalled; true when set. */
    public CompletableFuture<Boolean> setState(long taskId, TaskState state) {
        if (state == TaskState.RECALLED) {
            throw new IllegalArgumentException("use recall()");
        }
        // HSETEX-free compare: a recalled task must stay recalled, so check in the same call.
        return redis.async().<Long>eval("local s = redis.call('HGET', KEYS[1], 'state') "
                        + "if not s or s == 'recalled' then return 0 end "
                        + "redis.call('HSET', KEYS[1], 'state', ARGV[1]) return 1",
                ScriptOutputType.INTEGER, new String[]{Keys.task(taskId)}, state.wireName())
                .toCompletableFuture().thenApply(n -> n == 1L);
    }

    /** Marks a task as broadcast: its acks count without a queued copy (broadcasts are never queued). */
    public CompletableFuture<Void> markBroadcast(long taskId) {
        return redis.async().hset(Keys.task(taskId), "bcast", "1").toCompletableFuture().thenApply(x -> null);
    }

    public CompletableFuture<Void> increment(long taskId, Map<TaskCounter, Long> deltas) {
        String key = Keys.task(taskId);
        var async = redis.async();
        List<CompletableFuture<Long>> all = new ArrayList<>(deltas.size());
        deltas.forEach((c, n) -> {
            if (n != 0) {
                all.add(async.hincrby(key, c.field(), n).toCompletableFuture());
            }
        });
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /**
     * Queues the task for each device (bounded queues). Returns, per regId in order, whether the
     * device newly got it (false: its queue already held the task).
     */
    public CompletableFuture<List<Boolean>> enqueue(String appId, long taskId, List<String> regIds, long createdAtMillis) {
        if (regIds.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        String[] keys = regIds.stream().map(r -> Keys.queue(appId, r)).toArray(String[]::new);
        return QUEUE_ADD.<List<Long>>run(redis.async(), ScriptOutputType.MULTI, keys, Long.toString(taskId),
                        Long.toString(createdAtMillis), Integer.toString(policy.queueMax()),
                        Long.toString(policy.queueTtl().toMillis()))
                .thenApply(added -> added.stream().map(n -> n == 1L).toList());
    }

    /** Result of a recall: whether the task exists, and copies that were still undelivered. */
    public record Recall(boolean found, boolean alreadyRecalled, long pending) {
    }

    public CompletableFuture<Recall> recall(long taskId, long nowMillis) {
        return RECALL.<List<Long>>run(redis.async(), ScriptOutputType.MULTI, new String[]{Keys.task(taskId)},
                Long.toString(nowMillis))
                .thenApply(r -> new Recall(r.get(0) != 0L, r.get(0) == 2L, r.get(1)));
    }

    private static StoredTask toTask(long taskId, Map<String, String> h) {
        String cbUrl = h.get("cbUrl");
        TaskBody body = new TaskBody(taskId, h.get("app"), PayloadKind.fromCode(Integer.parseInt(h.get("kind"))),
                h.get("payload"), parse(h.get("created")), parse(h.get("expires")), cbUrl,
                cbUrl == null ? null : h.get("cbParam"), parse(h.get("sendAt")));
        Map<TaskCounter, Long> counters = new EnumMap<>(TaskCounter.class);
        for (TaskCounter c : TaskCounter.values()) {
            String v = h.get(c.field());
            if (v != null) {
                counters.put(c, Long.parseLong(v));
            }
        }
        return new StoredTask(body, TaskState.fromWire(h.get("state")), "1".equals(h.get("bcast")), counters);
    }

    private static long parse(String v) {
        return v == null ? 0L : Long.parseLong(v);
    }
}
