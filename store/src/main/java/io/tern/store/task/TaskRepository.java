package io.tern.store.task;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ZAddArgs;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.message.DeviceQueues;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/** Group-push tasks: one stored body per task, its state, its counters, and queued copies. */
public final class TaskRepository {
    private static final LuaScript QUEUE_ADD = LuaScript.load("queue-add");
    private static final LuaScript RECALL = LuaScript.load("task-recall");
    private static final LuaScript RESOLVE_START = LuaScript.load("task-resolve-start");
    private static final LuaScript RESOLVE_PROGRESS = LuaScript.load("task-resolve-progress");
    private static final LuaScript RESOLVE_FINISH = LuaScript.load("task-resolve-finish");
    private static final LuaScript RESOLVE_CLAIM = LuaScript.load("task-resolve-claim");
    private static final LuaScript INDEX_CLAIM = LuaScript.load("resolving-claim");
    private static final LuaScript JOB_DONE = LuaScript.load("task-job-done");
    private static final LuaScript FANOUT_BROKER_DONE = LuaScript.load("fanout-broker-done");
    // By SHA (LuaScript): EVAL sent the source and had Redis hash it on every all push.
    private static final LuaScript MARK_SENDING = LuaScript.of("local s = redis.call('HGET', KEYS[1], 'state') "
            + "if s ~= 'created' and s ~= 'scheduled' and s ~= 'queued' then return 0 end "
            + "redis.call('HSET', KEYS[1], 'state', 'sending') return 1");
    private static final LuaScript MARK_QUEUED = LuaScript.of("local s = redis.call('HGET', KEYS[1], 'state') "
            + "if s ~= 'created' and s ~= 'scheduled' then return 0 end "
            + "redis.call('HSET', KEYS[1], 'state', 'queued') return 1");
    private static final String BROKER_DONE = "fo:";

    /**
     * Tasks the recent index keeps unless configured otherwise ({@code logic.recent-tasks},
     * {@code scheduler.recent-tasks}): SREs look at the last few, not at history (the index is trimmed on each create).
     */
    public static final int DEFAULT_RECENT_KEPT = 1000;
    /** The most the index may be configured to keep: one sorted set, listed by the console in one call. */
    public static final int MAX_RECENT_KEPT = 100_000;

    private static final QueuePolicy READ_ONLY = new QueuePolicy(1, Duration.ofDays(1), Duration.ofDays(1),
            Duration.ofDays(1));

    private final RedisStore redis;
    private final QueuePolicy policy;
    private final int recentKept;

    /** Keeps {@value #DEFAULT_RECENT_KEPT} recent tasks: for roles and tests that never list them. */
    public TaskRepository(RedisStore redis, QueuePolicy policy) {
        this(redis, policy, DEFAULT_RECENT_KEPT);
    }

    /**
     * @param recentKept tasks the recent index keeps (trimmed on each create) and the most {@link #recent} lists,
     *                   1..{@value #MAX_RECENT_KEPT}
     */
    public TaskRepository(RedisStore redis, QueuePolicy policy, int recentKept) {
        if (recentKept < 1 || recentKept > MAX_RECENT_KEPT) {
            throw new IllegalArgumentException("recent tasks kept must be between 1 and " + MAX_RECENT_KEPT
                    + ", got " + recentKept);
        }
        this.redis = redis;
        this.policy = policy;
        this.recentKept = recentKept;
    }

    /** For a role that only reads tasks (the global scheduler's console): the queue bounds are never used. */
    public static TaskRepository readOnly(RedisStore redis, int recentKept) {
        return new TaskRepository(redis, READ_ONLY, recentKept);
    }

    /** Tasks the recent index keeps, the most {@link #recent} lists. */
    public int recentKept() {
        return recentKept;
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
        var recent = async.zadd(Keys.recentTasks(), t.createdAtMillis(), Long.toString(t.taskId())).toCompletableFuture()
                .thenCompose(n -> async.zremrangebyrank(Keys.recentTasks(), 0, -recentKept - 1).toCompletableFuture());
        // The taskId answered to the app must survive a failover (RedisStore.replicated); the recent index need not.
        return CompletableFuture.allOf(set, ttl, recent).thenCompose(x -> redis.replicated(key));
    }

    /** The newest tasks first, at most {@code limit}; those past their retention are left out. */
    public CompletableFuture<List<StoredTask>> recent(int limit) {
        if (limit < 1 || limit > recentKept) {
            throw new IllegalArgumentException("limit must be between 1 and " + recentKept + ", got " + limit);
        }
        return redis.async().zrevrange(Keys.recentTasks(), 0, limit - 1).toCompletableFuture().thenCompose(ids -> {
            List<CompletableFuture<StoredTask>> reads = ids.stream().map(id -> find(Long.parseLong(id))).toList();
            return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(x -> reads.stream()
                    .map(CompletableFuture::join).filter(Objects::nonNull).toList());
        });
    }

    /** @return the task, or null when unknown or past its retention */
    public CompletableFuture<StoredTask> find(long taskId) {
        return redis.async().hgetall(Keys.task(taskId)).toCompletableFuture()
                .thenApply(h -> h.isEmpty() ? null : toTask(taskId, h));
    }

    /**
     * Moves a created, scheduled or queued task to SENDING; true when moved. A recalled, resolving or
     * failed task keeps its state (checked in the same call).
     */
    public CompletableFuture<Boolean> markSending(long taskId) {
        return MARK_SENDING.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{Keys.task(taskId)})
                .thenApply(n -> n == 1L);
    }

    /**
     * Moves a created (or fired scheduled) task whose push went to the burst buffer to QUEUED; true when moved. A
     * task already sending (an earlier list chunk went out) keeps its state, as does one the drain already started.
     */
    public CompletableFuture<Boolean> markQueued(long taskId) {
        return MARK_QUEUED.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{Keys.task(taskId)})
                .thenApply(n -> n == 1L);
    }

    /** Moves a scheduled task the scheduler gave up on to FAILED with {@code reason}; true when moved. */
    public CompletableFuture<Boolean> failScheduled(long taskId, String reason) {
        return redis.async().<Long>eval("if redis.call('HGET', KEYS[1], 'state') ~= 'scheduled' then return 0 end "
                        + "redis.call('HSET', KEYS[1], 'state', 'failed', 'reason', ARGV[1]) return 1",
                ScriptOutputType.INTEGER, new String[]{Keys.task(taskId)}, reason)
                .toCompletableFuture().thenApply(n -> n == 1L);
    }

    /** How starting a resolution went. */
    public enum ResolveStart { STARTED, UNKNOWN_OR_RECALLED, ALREADY_RESOLVING }

    /** Starts resolving a tag push under {@code owner}'s lease until {@code leaseEndMillis}. */
    public CompletableFuture<ResolveStart> startResolving(long taskId, String targetJson, String owner, long leaseEndMillis) {
        var async = redis.async();
        String id = Long.toString(taskId);
        // The index entry first (see task-resolve-start.lua): a started resolution is always findable.
        var indexed = async.zadd(Keys.resolvingTasks(), ZAddArgs.Builder.nx(), (double) leaseEndMillis, id)
                .toCompletableFuture();
        return RESOLVE_START.<Long>run(async, ScriptOutputType.INTEGER, new String[]{Keys.task(taskId)}, targetJson, owner)
                .thenCombine(indexed, (n, added) -> {
                    if (n != 1L && added == 1L) {
                        async.zrem(Keys.resolvingTasks(), id);
                    }
                    return n == 1L ? ResolveStart.STARTED
                            : n == 2L ? ResolveStart.ALREADY_RESOLVING : ResolveStart.UNKNOWN_OR_RECALLED;
                })
                // A started resolution is what another node finishes if this one dies: on a replica before the answer.
                .thenCompose(r -> r != ResolveStart.STARTED ? CompletableFuture.completedFuture(r)
                        : redis.replicated(Keys.task(taskId), Keys.resolvingTasks()).thenApply(x -> r));
    }

    /** What renewing a resolution's lease found. */
    public enum Lease { HELD, LOST, ENDED }

    /** Renews the lease, and with {@code progress} saves where the resolution continues from. */
    public CompletableFuture<Lease> renewResolving(long taskId, String owner, long leaseEndMillis, ResolveProgress progress) {
        String[] args = progress == null
                ? new String[]{owner}
                : new String[]{owner, progress.sources(), Integer.toString(progress.sourceIndex()), progress.cursor(),
                Long.toString(progress.jobsPublished())};
        var async = redis.async();
        String id = Long.toString(taskId);
        return RESOLVE_PROGRESS.<Long>run(async, ScriptOutputType.INTEGER, new String[]{Keys.task(taskId)}, args)
                .thenCompose(n -> {
                    Lease lease = n == 1L ? Lease.HELD : n == 0L ? Lease.LOST : Lease.ENDED;
                    CompletableFuture<Long> index = lease == Lease.HELD
                            ? async.zadd(Keys.resolvingTasks(), (double) leaseEndMillis, id).toCompletableFuture()
                            : lease == Lease.ENDED ? async.zrem(Keys.resolvingTasks(), id).toCompletableFuture()
                            : CompletableFuture.completedFuture(0L);
                    return index.thenApply(x -> lease);
                });
    }

    /**
     * Where a resolution continues from: its source tags (comma-separated, fixed once chosen), the
     * index of the source being scanned and the SSCAN cursor in it; jobs published since the last save.
     */
    public record ResolveProgress(String sources, int sourceIndex, String cursor, long jobsPublished) {
    }

    /** Ends a resolution: every job published (SENDING) or failed with {@code reason}; false when not the owner's. */
    public CompletableFuture<Boolean> finishResolving(long taskId, String owner, boolean failed, String reason) {
        return finish(taskId, owner, failed ? "failed" : "sending", reason == null ? "" : reason, 0);
    }

    /** Hands a resolution back after an error, due at once: a sweeper retries it (takeovers are bounded). */
    public CompletableFuture<Boolean> abandonResolving(long taskId, String owner, String reason, long nowMillis) {
        return finish(taskId, owner, "abandon", reason, nowMillis);
    }

    /** The task step, then its index entry: dropped when done, due at once when abandoned. */
    private CompletableFuture<Boolean> finish(long taskId, String owner, String outcome, String reason, long nowMillis) {
        var async = redis.async();
        String id = Long.toString(taskId);
        return RESOLVE_FINISH.<Long>run(async, ScriptOutputType.INTEGER, new String[]{Keys.task(taskId)},
                        owner, outcome, reason)
                .thenCompose(n -> {
                    if (n != 1L) {
                        return CompletableFuture.completedFuture(false);
                    }
                    var index = "abandon".equals(outcome)
                            ? async.zadd(Keys.resolvingTasks(), (double) nowMillis, id).toCompletableFuture()
                            : async.zrem(Keys.resolvingTasks(), id).toCompletableFuture();
                    return index.thenApply(x -> true);
                });
    }

    /** Tasks whose resolution lease ended by {@code nowMillis}, oldest first, at most {@code max}. */
    public CompletableFuture<List<Long>> resolvingDue(long nowMillis, int max) {
        return redis.async().zrangebyscore(Keys.resolvingTasks(),
                        io.lettuce.core.Range.create(Double.NEGATIVE_INFINITY, (double) nowMillis),
                        io.lettuce.core.Limit.create(0, max))
                .toCompletableFuture().thenApply(ids -> ids.stream().map(Long::parseLong).toList());
    }

    /** A resolution taken over by a sweeper: what to resolve and where to continue. */
    public record Resumed(String targetJson, String sources, int sourceIndex, String cursor) {
    }

    /** What a takeover came to: taken (resume it), failed (with reason), or nothing to do. */
    public record Claim(Resumed resumed, String failedReason) {
    }

    public CompletableFuture<Claim> claimResolving(long taskId, long nowMillis, String owner, long leaseEndMillis,
                                                   int maxTakeovers) {
        var async = redis.async();
        String id = Long.toString(taskId);
        return INDEX_CLAIM.<Long>run(async, ScriptOutputType.INTEGER, new String[]{Keys.resolvingTasks()}, id,
                        Long.toString(nowMillis), Long.toString(leaseEndMillis))
                .thenCompose(won -> won != 1L ? CompletableFuture.completedFuture(List.<Object>of(0L))
                        : RESOLVE_CLAIM.<List<Object>>run(async, ScriptOutputType.MULTI, new String[]{Keys.task(taskId)},
                        Long.toString(nowMillis), owner, Integer.toString(maxTakeovers)).thenApply(r -> {
                            if ((Long) r.get(0) != 1L) {
                                async.zrem(Keys.resolvingTasks(), id); // not resolving any more, or failed now
                            }
                            return r;
                        }))
                .thenApply(r -> {
                    long kind = (Long) r.get(0);
                    if (kind == 1L) {
                        return new Claim(new Resumed((String) r.get(1), (String) r.get(2),
                                Integer.parseInt((String) r.get(3)), (String) r.get(4)), null);
                    }
                    return new Claim(null, kind == 2L ? (String) r.get(1) : null);
                });
    }

    /** True when tag-push job {@code jobId} of the task was already fanned out. */
    public CompletableFuture<Boolean> jobDone(long taskId, String jobId) {
        return redis.async().sismember(Keys.taskJobs(taskId), jobId).toCompletableFuture();
    }

    public CompletableFuture<Void> markJobDone(long taskId, String jobId) {
        return JOB_DONE.run(redis.async(), ScriptOutputType.INTEGER,
                new String[]{Keys.taskJobs(taskId), Keys.task(taskId)}, jobId).thenApply(x -> null);
    }

    /**
     * Marks a task as broadcast: its acks count without a queued copy (broadcasts are never queued),
     * at most once per device through an ack filter of {@code filterBits} bits and
     * {@code filterProbes} probes. The size is set once: a repeated all push keeps the first one.
     */
    public CompletableFuture<Void> markBroadcast(long taskId, long filterBits, int filterProbes) {
        String key = Keys.task(taskId);
        var async = redis.async();
        var bcast = async.hset(key, "bcast", "1").toCompletableFuture();
        var size = async.hsetnx(key, "bf", filterBits + ":" + filterProbes).toCompletableFuture();
        return CompletableFuture.allOf(bcast, size);
    }

    /**
     * Records a broadcast's fan-out to the brokers as unfinished, owned until {@code leaseEndMillis}: once the
     * owner stops renewing it, any node's sweeper finishes it ({@link #claimFanout}).
     */
    public CompletableFuture<Void> startFanout(long taskId, long leaseEndMillis) {
        // The index is how another node finishes the fan-out if this one dies: on a replica before the answer.
        return redis.async().zadd(Keys.fanoutTasks(), (double) leaseEndMillis, Long.toString(taskId))
                .toCompletableFuture().thenCompose(x -> redis.replicated(Keys.fanoutTasks()));
    }

    /** Extends the leases of fan-outs still unfinished (one that finished meanwhile is not added back). */
    public CompletableFuture<Void> renewFanouts(List<Long> taskIds, long leaseEndMillis) {
        var async = redis.async();
        List<CompletableFuture<Long>> all = new ArrayList<>(taskIds.size());
        for (long id : taskIds) {
            all.add(async.zadd(Keys.fanoutTasks(), ZAddArgs.Builder.xx(), (double) leaseEndMillis, Long.toString(id))
                    .toCompletableFuture());
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /** The fan-out is finished (or given up): no sweeper takes it over. */
    public CompletableFuture<Void> finishFanout(long taskId) {
        return redis.async().zrem(Keys.fanoutTasks(), Long.toString(taskId)).toCompletableFuture().thenApply(x -> null);
    }

    /** Fan-outs whose owner's lease ended by {@code nowMillis}, oldest first, at most {@code max}. */
    public CompletableFuture<List<Long>> fanoutsDue(long nowMillis, int max) {
        return redis.async().zrangebyscore(Keys.fanoutTasks(),
                        io.lettuce.core.Range.create(Double.NEGATIVE_INFINITY, (double) nowMillis),
                        io.lettuce.core.Limit.create(0, max))
                .toCompletableFuture().thenApply(ids -> ids.stream().map(Long::parseLong).toList());
    }

    /**
     * A fan-out taken over: the task, the broadcast's sequence number and the brokers that already answered; or
     * {@code givenUp} after more than the allowed takeovers (its devices catch up from the log on reconnect).
     */
    public record FanoutClaim(StoredTask task, long broadcastSeq, List<String> brokersDone, boolean givenUp) {
    }

    /**
     * Takes over a fan-out whose lease ended by {@code nowMillis}, under a new lease; null when it is not due any
     * more (another sweeper won it) or its task is gone. The index entry first, so of two sweepers one goes on.
     */
    public CompletableFuture<FanoutClaim> claimFanout(long taskId, long nowMillis, long leaseEndMillis,
                                                      int maxTakeovers) {
        var async = redis.async();
        String id = Long.toString(taskId);
        return INDEX_CLAIM.<Long>run(async, ScriptOutputType.INTEGER, new String[]{Keys.fanoutTasks()}, id,
                        Long.toString(nowMillis), Long.toString(leaseEndMillis))
                .thenCompose(won -> {
                    if (won != 1L) {
                        return CompletableFuture.completedFuture(null);
                    }
                    return async.hgetall(Keys.task(taskId)).toCompletableFuture().thenCompose(h -> {
                        String seq = h.get("bcastSeq");
                        if (seq == null || h.get("app") == null) {
                            return finishFanout(taskId).thenApply(x -> (FanoutClaim) null); // gone: nothing to send
                        }
                        List<String> done = h.keySet().stream().filter(k -> k.startsWith(BROKER_DONE))
                                .map(k -> k.substring(BROKER_DONE.length())).toList();
                        return async.hincrby(Keys.task(taskId), "fotakeovers", 1).toCompletableFuture()
                                .thenApply(n -> new FanoutClaim(toTask(taskId, h), Long.parseLong(seq), done,
                                        n > maxTakeovers));
                    });
                });
    }

    /**
     * Records that {@code brokerId} wrote {@code written} copies of broadcast task {@code taskId} and adds them to
     * its targeted and sent counters, once per broker; false when that broker's answer was already counted.
     */
    public CompletableFuture<Boolean> fanoutBrokerDone(long taskId, String brokerId, int written) {
        return FANOUT_BROKER_DONE.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{Keys.task(taskId)},
                brokerId, Integer.toString(written), TaskCounter.TARGETED.field(), TaskCounter.SENT.field())
                .thenApply(n -> n == 1L);
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
     * Queues the task for each device (bounded queues): one script per device, all in one flush. Returns, per
     * regId in order, whether the device newly got it (false: its queue already held the task). Entries a full
     * queue pushes beyond its bound are then evicted ({@link DeviceQueues#evict}).
     */
    public CompletableFuture<List<Boolean>> enqueue(String appId, long taskId, List<String> regIds, long createdAtMillis) {
        if (regIds.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        var async = redis.async();
        String id = Long.toString(taskId);
        String created = Long.toString(createdAtMillis);
        String max = Integer.toString(policy.queueMax());
        String ttl = Long.toString(policy.queueTtl().toMillis());
        List<CompletableFuture<Boolean>> added = new ArrayList<>(regIds.size());
        for (String regId : regIds) {
            added.add(QUEUE_ADD.<List<Object>>run(async, ScriptOutputType.MULTI,
                    new String[]{Keys.queue(appId, regId)}, id, created, max, ttl).thenCompose(r -> {
                        boolean isNew = (Long) r.get(0) == 1L;
                        if (r.size() == 1) {
                            return CompletableFuture.completedFuture(isNew);
                        }
                        List<String> over = r.subList(1, r.size()).stream().map(o -> (String) o).toList();
                        return DeviceQueues.evict(redis, appId, regId, over).thenApply(x -> isNew);
                    }));
        }
        return CompletableFuture.allOf(added.toArray(CompletableFuture[]::new))
                .thenApply(x -> added.stream().map(CompletableFuture::join).toList());
    }

    /**
     * Completes once the devices' queued copies ({@link #enqueue}) are on a replica ({@link RedisStore#replicated}):
     * a list push is answered after it, since its copies are not sent again when the app retries.
     */
    public CompletableFuture<Void> copiesReplicated(String appId, List<String> regIds) {
        return redis.replicated(regIds.stream().map(regId -> Keys.queue(appId, regId)).toArray(String[]::new));
    }

    /** Result of a recall: whether the task exists, and copies that were still undelivered. */
    public record Recall(boolean found, boolean alreadyRecalled, long pending) {
    }

    public CompletableFuture<Recall> recall(long taskId, long nowMillis) {
        return RECALL.<List<Long>>run(redis.async(), ScriptOutputType.MULTI, new String[]{Keys.task(taskId)},
                Long.toString(nowMillis))
                .thenApply(r -> new Recall(r.get(0) != 0L, r.get(0) == 2L, r.get(1)))
                // A recall lost in a failover would let the push go on: on a replica before the answer.
                .thenCompose(r -> !r.found() ? CompletableFuture.completedFuture(r)
                        : redis.replicated(Keys.task(taskId)).thenApply(x -> r));
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
        String reason = h.get("reason");
        return new StoredTask(body, TaskState.fromWire(h.get("state")), "1".equals(h.get("bcast")), counters,
                reason == null || reason.isEmpty() ? null : reason);
    }

    private static long parse(String v) {
        return v == null ? 0L : Long.parseLong(v);
    }
}
