package io.tern.pipeline.intake;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.buffer.BufferBacklog;
import io.tern.pipeline.buffer.BufferConfig;
import io.tern.pipeline.buffer.BufferProducer;
import io.tern.pipeline.buffer.BufferedPush;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.pipeline.group.GroupPushService;
import io.tern.pipeline.group.GroupTarget;
import io.tern.pipeline.group.ScheduledPushHandler;
import io.tern.pipeline.outage.AsidePush;
import io.tern.pipeline.outage.StorageMode;
import io.tern.pipeline.permit.PermitGate;
import io.tern.pipeline.single.PushOutcomeView;
import io.tern.pipeline.single.SinglePush;
import io.tern.pipeline.single.SinglePushService;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.tag.TagRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Where an admitted push goes: within this node's share of the permit, the direct path as before; beyond it, into
 * the burst buffer (Kafka {@code tern.buffer}) for a bypass consumer to deliver at the permitted rate, recorded
 * {@code queued} and answered 200 at once. Refused only when the buffer cannot take it: 429 {@code buffer_full}
 * while the drain's backlog is over {@code max-backlog}, 503 {@code buffer_unavailable} when Kafka does not
 * acknowledge it in time (nothing recorded: the record is written first, the status after).
 *
 * <p>A push costs the deliveries it causes downstream: 1 for a single push, the list's size for a list push, and
 * for a tag or all push an estimate made before resolving it: the smallest of its {@code all} tags (else the sum of
 * its {@code any} tags), or the platform's connected devices (the brokers' connection counts, an upper bound for
 * one app's broadcast). A cost above a second's share never passes {@link PermitGate#tryAcquire}: such a push is
 * always buffered, and the drain takes it into debt.
 */
public final class PushIntake implements ScheduledPushHandler {
    private final PermitGate permit;
    private final BufferProducer buffer;
    private final BufferBacklog backlog;
    private final BufferConfig config;
    private final SinglePushService single;
    private final MessageRepository messages;
    private final GroupPushService groups;
    private final TaskRepository tasks;
    private final TagRepository tags;
    private final BrokerDirectory brokers;
    private final LongSupplier clock;
    private final Counter direct;
    private final Counter buffered;
    private final Counter full;
    private volatile StorageMode storage;
    private volatile AsidePush aside;

    public PushIntake(PermitGate permit, BufferProducer buffer, BufferBacklog backlog, BufferConfig config,
                      SinglePushService single, MessageRepository messages, GroupPushService groups,
                      TaskRepository tasks, TagRepository tags, BrokerDirectory brokers, LongSupplier clock,
                      MeterRegistry registry) {
        this.permit = permit;
        this.buffer = buffer;
        this.backlog = backlog;
        this.config = config;
        this.single = single;
        this.messages = messages;
        this.groups = groups;
        this.tasks = tasks;
        this.tags = tags;
        this.brokers = brokers;
        this.clock = clock;
        this.direct = Counter.builder("tern.intake").tag("path", "direct").register(registry);
        this.buffered = Counter.builder("tern.intake").tag("path", "buffered").register(registry);
        this.full = Counter.builder("tern.intake").tag("path", "buffer-full").register(registry);
    }

    /**
     * In a Redis outage ({@link StorageMode.Mode#OUTAGE}) single pushes go {@code aside} instead: written to no Redis,
     * carried to the device's broker or queued in the disk KV (the burst buffer is skipped too: its drain writes Redis).
     */
    public PushIntake divertInOutage(StorageMode storage, AsidePush aside) {
        this.storage = storage;
        this.aside = aside;
        return this;
    }

    /** A single push: delivered now within the permit, else buffered and answered {@code queued}. */
    public CompletableFuture<PushOutcomeView> single(String appId, SinglePush req) {
        StorageMode s = storage;
        if (s != null && s.mode() == StorageMode.Mode.OUTAGE) {
            direct.increment();
            return aside.push(single.message(appId, req));
        }
        if (permit.tryAcquire(1)) {
            direct.increment();
            return single.push(appId, req);
        }
        refuseWhenFull();
        NewMessage m = single.message(appId, req);
        BufferedPush record = new BufferedPush(BufferedPush.Kind.SINGLE, appId, m.msgId(), m.regId(), m.kind(),
                m.payload(), m.createdAtMillis(), m.expiresAtMillis(), m.requestId(), m.callbackUrl(),
                m.callbackParam(), 0, null, 1);
        return buffer.buffer(record).thenCompose(x -> messages.recordQueued(m)).thenCompose(r -> {
            if (r.unknownDevice()) {
                // Its buffer record finds no device either and records nothing (SinglePushService.deliverQueued).
                throw new PushException(PushError.UNKNOWN_DEVICE, "regId " + req.regId()
                        + " is not a known device of app " + appId, "regId");
            }
            buffered.increment();
            if (r.created()) {
                return CompletableFuture.completedFuture(new PushOutcomeView(r.msgId(), MessageStatus.QUEUED));
            }
            // A repeated requestId: the first message's status (its extra buffer record drains as a repeat).
            return messages.find(appId, m.regId(), r.msgId()).thenApply(prev -> new PushOutcomeView(r.msgId(),
                    prev == null ? MessageStatus.QUEUED : prev.effectiveStatus(clock.getAsLong())));
        });
    }

    /**
     * A group push call (list, tag, all) on a task: sent or scheduled within the permit as before; beyond it
     * buffered, the task marked {@code queued}, answered {@code {"taskId", "state": "queued"}}. A task whose sendAt
     * is ahead is only scheduled (nothing is delivered now, so no permit is taken).
     */
    public CompletableFuture<Map<String, Object>> task(StoredTask task, GroupTarget target) {
        if (task.state() == TaskState.SCHEDULED && task.body().sendAtMillis() > clock.getAsLong()) {
            return groups.sendOrSchedule(task, target);
        }
        return admit(task, target);
    }

    /**
     * The scheduler's call when a scheduled task's time comes (on one node): the push then goes through the permit
     * like any other, so a large scheduled push is drained at the permitted rate. Safe to run again: a task an
     * earlier firing handed to a resolution or buffered is left alone, a list chunk reaches each device once.
     */
    @Override
    public CompletableFuture<Void> fire(long taskId, String appId, String targetJson) {
        return groups.task(appId, taskId, false).thenCompose(t -> {
            // Resolving: an earlier firing handed the tag push over (it resumes by itself); queued: it buffered it.
            if (t.state() == TaskState.RECALLED || t.state() == TaskState.RESOLVING || t.state() == TaskState.QUEUED) {
                return CompletableFuture.completedFuture(null);
            }
            return admit(t, GroupTarget.fromJson(targetJson)).thenApply(x -> null);
        });
    }

    @Override
    public CompletableFuture<Void> givenUp(long taskId, String reason) {
        return groups.failScheduled(taskId, reason);
    }

    private CompletableFuture<Map<String, Object>> admit(StoredTask task, GroupTarget target) {
        return audience(task.body().appId(), target).thenCompose(deliveries -> {
            // In outage mode the burst buffer is skipped as for single pushes (its drain and the queued mark need
            // Redis): the permit is taken if it can be, and the push goes on from the disk KV regardless.
            if (permit.tryAcquire(deliveries) || groups.inOutage()) {
                direct.increment();
                return groups.send(task, target);
            }
            refuseWhenFull();
            long taskId = task.body().taskId();
            BufferedPush record = new BufferedPush(BufferedPush.Kind.TASK, task.body().appId(), 0, null, null, null,
                    task.body().createdAtMillis(), task.body().expiresAtMillis(), null, task.body().callbackUrl(),
                    task.body().callbackParam(), taskId, target.toJson(), deliveries);
            return buffer.buffer(record).thenCompose(x -> tasks.markQueued(taskId)).thenApply(x -> {
                buffered.increment();
                return Map.<String, Object>of("taskId", Long.toString(taskId), "state", TaskState.QUEUED.wireName());
            });
        });
    }

    /** Deliveries the target will cause downstream (see the class comment); at least 1. */
    CompletableFuture<Long> audience(String appId, GroupTarget target) {
        if (target instanceof GroupTarget.ListTarget l) {
            return CompletableFuture.completedFuture((long) Math.max(1, l.regIds().size()));
        }
        if (target instanceof GroupTarget.TagTarget t) {
            boolean byAll = !t.expression().all().isEmpty();
            List<CompletableFuture<Long>> sizes = new ArrayList<>();
            for (String tag : byAll ? t.expression().all() : t.expression().any()) {
                sizes.add(tags.size(appId, tag));
            }
            return CompletableFuture.allOf(sizes.toArray(CompletableFuture[]::new)).thenApply(x -> {
                long estimate = byAll ? Long.MAX_VALUE : 0;
                for (CompletableFuture<Long> s : sizes) {
                    estimate = byAll ? Math.min(estimate, s.join()) : estimate + s.join();
                }
                return Math.max(1, estimate == Long.MAX_VALUE ? 1 : estimate);
            });
        }
        long connected = brokers.snapshot().brokers().stream().mapToLong(BrokerInfo::connections).sum();
        return CompletableFuture.completedFuture(Math.max(1, connected));
    }

    private void refuseWhenFull() {
        long behind = backlog.total();
        if (behind > config.maxBacklog()) {
            full.increment();
            throw new PushException(PushError.BUFFER_FULL, "beyond the permit and the burst buffer holds " + behind
                    + " undrained pushes (bound " + config.maxBacklog() + ")", null, config.retryAfter().toSeconds());
        }
    }
}
