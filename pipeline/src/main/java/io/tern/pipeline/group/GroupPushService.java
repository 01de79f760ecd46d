package io.tern.pipeline.group;

import io.tern.pipeline.buffer.BufferedPush;
import io.tern.pipeline.id.MsgIdGenerator;
import io.tern.protocol.frame.PayloadKind;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Group pushes: a task body stored once, then targeted by list, tag or all pushes; task status
 * and recall. The list and tag paths fan out through {@link GroupFanout}; the all path records the
 * broadcast in the app's log (for devices offline now) and answers, then {@link BroadcastFanout} sends
 * one BROADCAST per broker in the background, finished by another node if this one dies. In a Redis outage
 * ({@link #duringOutage}) list and all pushes go through {@link OutageGroupPush}.
 */
public final class GroupPushService {
    private static final Logger log = LoggerFactory.getLogger(GroupPushService.class);

    private final TaskRepository tasks;
    private final BroadcastLog broadcasts;
    private final GroupFanout fanout;
    private final BrokerDirectory brokers;
    private final MsgIdGenerator ids;
    private final LongSupplier clock;
    private final BroadcastFanout fanouts;
    private final AckFilterConfig ackFilter;
    private TagPushService tagPush;
    private PushSchedule scheduler;
    private volatile Consumer<TaskBody> bodyCopies = body -> { };
    private volatile OutageGroupPush outage;
    private volatile BooleanSupplier inOutage = () -> false;

    public GroupPushService(TaskRepository tasks, BroadcastLog broadcasts, GroupFanout fanout, BrokerDirectory brokers,
                            MsgIdGenerator ids, LongSupplier clock, BroadcastFanout fanouts, AckFilterConfig ackFilter) {
        this.fanouts = fanouts;
        this.tasks = tasks;
        this.broadcasts = broadcasts;
        this.fanout = fanout;
        this.brokers = brokers;
        this.ids = ids;
        this.clock = clock;
        this.ackFilter = ackFilter;
    }

    /** Completes the wiring: the scheduler calls back into {@link #fire}, so both exist first. */
    public void connect(TagPushService tagPush, PushSchedule scheduler) {
        this.tagPush = tagPush;
        this.scheduler = scheduler;
    }

    /**
     * Hands every new task body to {@code sink} too (a logic node: Kafka {@code tern.bodies}, for the disk-KV backup);
     * the sink must not block and must not throw.
     */
    public void copyBodiesTo(Consumer<TaskBody> sink) {
        this.bodyCopies = sink;
    }

    /**
     * While {@code inOutage} says Redis is down, list pushes and broadcasts of existing tasks go through
     * {@code outage} (bodies and routes from the disk KV), and what needs Redis answers 503 with Retry-After.
     * Without this, every call needs Redis.
     */
    public void duringOutage(OutageGroupPush outage, BooleanSupplier inOutage) {
        this.outage = outage;
        this.inOutage = inOutage;
    }

    /** Redis is down and this service pushes on from the disk KV. */
    public boolean inOutage() {
        return outage();
    }

    private boolean outage() {
        return outage != null && inOutage.getAsBoolean();
    }

    /** Stores a task body; returns its taskId. {@code sendAtMillis} 0 = send when targeted. */
    public CompletableFuture<Long> createTask(String appId, PayloadKind kind, String payloadJson, long ttlMillis,
                                              String callbackUrl, String callbackParam, long sendAtMillis) {
        if (outage()) {
            // The task's state and counters live in Redis; see docs/reliability.md for why not the disk KV alone.
            return CompletableFuture.failedFuture(OutageGroupPush.needsRedis("creating a task"));
        }
        long now = clock.getAsLong();
        long taskId = ids.next();
        // A scheduled task lives its TTL from the time it is sent, not from now.
        long start = Math.max(now, sendAtMillis);
        TaskBody body = new TaskBody(taskId, appId, kind, payloadJson, now, start + ttlMillis, callbackUrl,
                callbackParam, sendAtMillis);
        return tasks.create(body, sendAtMillis > now ? TaskState.SCHEDULED : TaskState.CREATED).thenApply(x -> {
            bodyCopies.accept(body);
            return taskId;
        });
    }

    /** The app's task, or 404; a recalled or expired task answers 409 when {@code sendable}. */
    public CompletableFuture<StoredTask> task(String appId, long taskId, boolean sendable) {
        if (outage()) {
            if (!sendable) {
                return CompletableFuture.failedFuture(OutageGroupPush.needsRedis("a task's status"));
            }
            return outage.task(appId, taskId, true);
        }
        return tasks.find(taskId).thenApply(t -> {
            if (t == null || !t.body().appId().equals(appId)) {
                throw TaskNotFoundException.of(taskId);
            }
            if (sendable && t.state() == TaskState.RECALLED) {
                throw new PushException(PushError.TASK_RECALLED, "task " + taskId + " was recalled", "taskId");
            }
            if (sendable && t.body().expiresAtMillis() <= clock.getAsLong()) {
                throw new PushException(PushError.TASK_EXPIRED, "task " + taskId + " has expired", "taskId");
            }
            return t;
        });
    }

    /** Sends the task to up to 1,000 devices now. */
    public CompletableFuture<GroupFanout.ChunkResult> listPush(StoredTask task, List<String> regIds) {
        if (outage()) {
            return outage.listPush(task, regIds);
        }
        return tasks.markSending(task.body().taskId()).thenCompose(x -> fanout.send(task, regIds));
    }

    /**
     * Sends the task to every device of the app: completes with the broadcast's sequence number once it is in the
     * app's log and its fan-out recorded; the fan-out to the brokers goes on in the background
     * ({@link BroadcastFanout}), its progress in the task's targeted and sent counters.
     */
    public CompletableFuture<Long> allPush(StoredTask task) {
        if (outage()) {
            return outage.allPush(task);
        }
        long taskId = task.body().taskId();
        String appId = task.body().appId();
        long connected = brokers.snapshot().brokers().stream().mapToLong(BrokerInfo::connections).sum();
        return fanouts.start(task, () -> {
            // Issued back to back, not one after another's answer: the marks are on the task's hash and go out on
            // its connection first, so Redis runs them before the log's first step (bcast-mark) on the same hash.
            var marked = tasks.markBroadcast(taskId, ackFilter.bitsFor(connected), ackFilter.probes());
            var sending = tasks.markSending(taskId);
            // Logged before sending: a device that connects meanwhile catches up from the log.
            var logged = broadcasts.append(appId, taskId, task.body().expiresAtMillis());
            return CompletableFuture.allOf(marked, sending).thenCompose(x -> logged).thenApply(seq -> {
                OutageGroupPush mirror = outage;
                if (mirror != null) {
                    mirror.mirrorBroadcast(appId, seq, taskId);
                }
                return seq;
            });
        });
    }

    /** Sends the task to its target now; what the API answers for it. */
    public CompletableFuture<Map<String, Object>> send(StoredTask task, GroupTarget target) {
        String taskId = Long.toString(task.body().taskId());
        if (target instanceof GroupTarget.ListTarget l) {
            return listPush(task, l.regIds()).thenApply(r -> Map.of("taskId", taskId, "invalidRegIds", r.invalidRegIds()));
        }
        if (target instanceof GroupTarget.TagTarget t) {
            if (outage()) {
                // Tag members are sets in Redis only.
                return CompletableFuture.failedFuture(OutageGroupPush.needsRedis("a tag push"));
            }
            // Recorded on the task before answering: any node finishes it if this one dies.
            return tagPush.start(task, t.expression()).thenApply(x -> Map.of("taskId", taskId, "state", "resolving"));
        }
        return allPush(task).thenApply(seq -> Map.of("taskId", taskId, "broadcastSeq", seq, "state", "sending"));
    }

    /**
     * Starts a group push the drain took from the burst buffer, as the API would have: the task's list chunk, tag
     * resolution or broadcast. Nothing happens for a task recalled, failed, expired or gone meanwhile. Draining a
     * record again sends nothing new: a list chunk reaches only devices whose queue did not hold the task yet
     * ({@link GroupFanout}), and a tag or all push starts only from QUEUED (or CREATED / SCHEDULED, when the drain
     * was quicker than the intake's mark).
     *
     * @return what the API would have answered, or an empty map when nothing was (re)started
     * @throws IllegalArgumentException (in the future) for a target this version cannot read
     */
    public CompletableFuture<Map<String, Object>> startQueued(BufferedPush p) {
        if (p.kind() != BufferedPush.Kind.TASK) {
            throw new IllegalArgumentException("not a task: " + p.kind());
        }
        GroupTarget target = GroupTarget.fromJson(p.targetJson());
        return tasks.find(p.taskId()).thenCompose(t -> {
            if (t == null || !t.body().appId().equals(p.appId()) || t.state() == TaskState.RECALLED
                    || t.state() == TaskState.FAILED || t.body().expiresAtMillis() <= clock.getAsLong()) {
                log.debug("[task={}] not started from the buffer: {}", p.taskId(), t == null ? "gone" : t.state());
                return CompletableFuture.completedFuture(Map.<String, Object>of());
            }
            boolean fresh = t.state() == TaskState.QUEUED || t.state() == TaskState.CREATED
                    || t.state() == TaskState.SCHEDULED;
            if (!fresh && !(target instanceof GroupTarget.ListTarget)) {
                return CompletableFuture.completedFuture(Map.<String, Object>of()); // started by an earlier drain
            }
            return send(t, target);
        });
    }

    /** Sends now, or, for a task whose sendAt is ahead, records the target with the scheduler. */
    public CompletableFuture<Map<String, Object>> sendOrSchedule(StoredTask task, GroupTarget target) {
        long sendAt = task.body().sendAtMillis();
        if (sendAt > clock.getAsLong() && outage()) {
            return CompletableFuture.failedFuture(OutageGroupPush.needsRedis("scheduling a push"));
        }
        if (task.state() == TaskState.SCHEDULED && sendAt > clock.getAsLong()) {
            return scheduler.schedule(task.body().taskId(), task.body().appId(), sendAt, target.toJson())
                    .thenApply(x -> Map.of("taskId", Long.toString(task.body().taskId()), "state", "scheduled",
                            "sendAt", sendAt));
        }
        return send(task, target);
    }

    /** The scheduler gave up on a scheduled task: it fails, saying why, instead of staying scheduled. */
    public CompletableFuture<Void> failScheduled(long taskId, String reason) {
        return tasks.failScheduled(taskId, reason).thenApply(x -> null);
    }

    public CompletableFuture<TaskRepository.Recall> recall(String appId, long taskId) {
        return task(appId, taskId, false).thenCompose(t -> tasks.recall(taskId, clock.getAsLong()))
                .thenCompose(r -> scheduler.cancel(taskId).thenApply(x -> {
                    OutageGroupPush o = outage;
                    if (o != null && r.found()) {
                        o.recalled(taskId);
                    }
                    return r;
                }));
    }
}
