package io.tern.pipeline.group;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.protocol.frame.Frame;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.route.DeviceRoute;
import io.tern.store.route.Route;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskBodyJson;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;

/**
 * Group pushes while Redis is down, from what survives it: the task body from the disk KV (copied there from Kafka
 * {@code tern.bodies} by the disk-KV backup), device routes from the disk KV (copied from {@code tern.routes}),
 * brokers from the last registry snapshot, over the existing links. What a push did (counters, devices it could not
 * reach, broadcasts) is recorded in the disk KV and {@link #reconcile reconciled} into Redis once it answers again:
 * unreached devices then get the task queued in Redis as usual (delivered on their next connect), a broadcast is
 * logged in Redis for later catch-ups. Broadcasts of the outage take their sequence from the disk KV's copy of the
 * app's broadcast log, so a device connecting meanwhile catches up from the disk KV (its broker reads it there).
 * <p>
 * Not during an outage: creating a task, tag pushes, scheduling and recalls (they answer 503 with Retry-After, see
 * docs/reliability.md). A task recalled before the outage is not sent during it: a recall deletes the task's disk-KV
 * body. No retry rounds and no per-device dedupe: a list push repeated during the outage sends again (the SDK drops
 * the second copy by msgId).
 */
public final class OutageGroupPush {
    private static final Logger log = LoggerFactory.getLogger(OutageGroupPush.class);
    /** Retry-After of what an outage refuses: about when the outage detector could have seen Redis back. */
    static final long RETRY_AFTER_SECONDS = 5;

    private final DiskKv disk;
    private final TaskRepository tasks;
    private final RouteRepository routes;
    private final BroadcastLog broadcasts;
    private final BrokerDirectory brokers;
    private final BrokerLinks links;
    private final AckFilterConfig ackFilter;
    private final int broadcastLogLength;
    private final LongSupplier clock;
    private final Counter outageCopies;
    private final Counter outageUnreached;
    private final Counter reconciled;
    private final Counter unrecoverable;
    private final Counter mirrorFailed;
    private CompletableFuture<Reconciled> running;

    /** @param broadcastLogLength broadcasts kept per app in the disk KV's log (as {@link BroadcastLog} in Redis) */
    public OutageGroupPush(DiskKv disk, TaskRepository tasks, RouteRepository routes, BroadcastLog broadcasts,
                           BrokerDirectory brokers, BrokerLinks links, AckFilterConfig ackFilter,
                           int broadcastLogLength, LongSupplier clock, MeterRegistry registry) {
        this.disk = disk;
        this.tasks = tasks;
        this.routes = routes;
        this.broadcasts = broadcasts;
        this.brokers = brokers;
        this.links = links;
        this.ackFilter = ackFilter;
        this.broadcastLogLength = broadcastLogLength;
        this.clock = clock;
        this.outageCopies = Counter.builder("tern.push.group.outage.copies").tag("outcome", "written")
                .description("group push copies written while Redis was down").register(registry);
        this.outageUnreached = Counter.builder("tern.push.group.outage.copies").tag("outcome", "unreached")
                .register(registry);
        this.reconciled = Counter.builder("tern.push.group.outage.reconciled")
                .description("tasks whose outage pushes were reconciled into Redis").register(registry);
        this.unrecoverable = Counter.builder("tern.push.group.outage.unrecoverable")
                .description("tasks pushed during an outage that Redis no longer knows (restarted empty)")
                .register(registry);
        this.mirrorFailed = Counter.builder("tern.push.group.broadcast.mirror.failed")
                .description("broadcasts not copied to the disk KV's log (catch-up during an outage misses them)")
                .register(registry);
    }

    /** The app's task from its disk-KV body: 404 when none was backed up, 409 once expired. */
    public CompletableFuture<StoredTask> task(String appId, long taskId, boolean sendable) {
        return disk.body(taskId).handle((json, err) -> {
            if (err != null) {
                throw new PushException(PushError.STORE_UNAVAILABLE, "Redis is down and the disk KV did not answer: "
                        + err.getMessage(), null, RETRY_AFTER_SECONDS);
            }
            TaskBody body = TaskBodyJson.read(json);
            if (body == null || !body.appId().equals(appId)) {
                throw TaskNotFoundException.of(taskId);
            }
            if (sendable && body.expiresAtMillis() <= clock.getAsLong()) {
                throw new PushException(PushError.TASK_EXPIRED, "task " + taskId + " has expired", "taskId");
            }
            if (body.sendAtMillis() > clock.getAsLong()) {
                throw needsRedis("a scheduled task"); // its schedule is in Redis; sending it now would be early
            }
            return new StoredTask(body, TaskState.SENDING, false, Map.of(), null);
        });
    }

    /** Refuses what needs Redis during an outage: 503 with Retry-After. */
    public static PushException needsRedis(String what) {
        return new PushException(PushError.STORE_UNAVAILABLE, "Redis is down: " + what + " needs it; pushes of "
                + "existing tasks to lists and to all devices go on", null, RETRY_AFTER_SECONDS);
    }

    /** Forgets a recalled task's disk-KV body, so an outage does not send it. Best effort. */
    public void recalled(long taskId) {
        disk.deleteBody(taskId).whenComplete((x, err) -> {
            if (err != null) {
                log.warn("[logic task={}] recalled, but its disk-KV body was not deleted: an outage could send it: {}",
                        taskId, err.toString());
            }
        });
    }

    /** A list push: copies to the devices the disk KV routes to a live broker, the rest recorded for reconciling. */
    public CompletableFuture<GroupFanout.ChunkResult> listPush(StoredTask task, List<String> regIds) {
        String appId = task.body().appId();
        long taskId = task.body().taskId();
        List<String> unique = List.copyOf(new LinkedHashSet<>(regIds));
        return disk.routes(appId, unique).thenCompose(found -> {
            Map<BrokerInfo, List<String>> byBroker = new HashMap<>();
            List<String> unreached = new ArrayList<>();
            for (int i = 0; i < unique.size(); i++) {
                Route r = found.get(i);
                BrokerInfo b = r == null ? null : brokers.get(r.brokerId());
                if (b == null) {
                    unreached.add(unique.get(i));
                } else {
                    byBroker.computeIfAbsent(b, x -> new ArrayList<>()).add(unique.get(i));
                }
            }
            Frame.Push push = GroupFanout.pushOf(task);
            List<CompletableFuture<Integer>> sent = new ArrayList<>();
            List<String> missed = Collections.synchronizedList(unreached);
            List<String> reached = Collections.synchronizedList(new ArrayList<>());
            byBroker.forEach((broker, ids) -> sent.add(links.sendBatch(broker, appId, ids, push).handle((r, err) -> {
                if (err != null) {
                    missed.addAll(ids);
                    return 0;
                }
                missed.addAll(r.notConnected());
                Set<String> not = new HashSet<>(r.notConnected());
                ids.stream().filter(id -> !not.contains(id)).forEach(reached::add);
                return r.written();
            })));
            return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).thenCompose(x -> {
                int written = sent.stream().mapToInt(CompletableFuture::join).sum();
                List<String> offline = List.copyOf(missed);
                Map<String, Long> deltas = new LinkedHashMap<>();
                deltas.put(TaskCounter.TARGETED.wireName(), (long) unique.size());
                deltas.put(TaskCounter.SENT.wireName(), (long) written);
                deltas.put(TaskCounter.OFFLINE.wireName(), (long) offline.size());
                outageCopies.increment(written);
                outageUnreached.increment(offline.size());
                // Durable before answering: the devices not reached get the task queued once Redis is back.
                return disk.recordOutagePush(taskId, deltas, offline, List.copyOf(reached), null)
                        .thenApply(y -> new GroupFanout.ChunkResult(List.of(), unique.size(), written));
            });
        });
    }

    /**
     * A broadcast: one BROADCAST per live broker, under a sequence number from the disk KV, logged there. Completes
     * with the sequence number once every broker answered: without Redis there is no fan-out index another node
     * could finish it from, so the caller is answered only when it is sent.
     */
    public CompletableFuture<Long> allPush(StoredTask task) {
        TaskBody body = task.body();
        String appId = body.appId();
        long taskId = body.taskId();
        return disk.nextBroadcastSeq(appId)
                // Logged before sending, as in Redis: a device connecting meanwhile catches up from the log.
                .thenCompose(seq -> disk.logBroadcast(appId, seq, taskId, broadcastLogLength).thenApply(x -> seq))
                .thenCompose(seq -> {
                    Frame.Push push = new Frame.Push(taskId, body.expiresAtMillis(), body.kind(),
                            body.payload().getBytes(StandardCharsets.UTF_8), seq);
                    boolean countAcks = body.callbackUrl() == null || body.callbackUrl().isEmpty();
                    List<CompletableFuture<Integer>> perBroker = new ArrayList<>();
                    for (BrokerInfo b : brokers.snapshot().brokers()) {
                        perBroker.add(links.broadcast(b, appId, push, countAcks).handle((r, err) -> {
                            if (err != null) {
                                log.warn("[logic task={}] outage broadcast to broker {} failed, its devices catch up "
                                        + "on reconnect: {}", taskId, b.id(), err.toString());
                                return 0;
                            }
                            return r.written();
                        }));
                    }
                    return CompletableFuture.allOf(perBroker.toArray(CompletableFuture[]::new)).thenCompose(x -> {
                        int written = perBroker.stream().mapToInt(CompletableFuture::join).sum();
                        outageCopies.increment(written);
                        Map<String, Long> deltas = Map.of(TaskCounter.TARGETED.wireName(), (long) written,
                                TaskCounter.SENT.wireName(), (long) written);
                        return disk.recordOutagePush(taskId, deltas, List.of(), List.of(), appId)
                                .thenApply(y -> seq);
                    });
                });
    }

    /**
     * Copies a broadcast Redis logged to the disk KV's log, so catch-up during a later outage finds it and outage
     * sequence numbers continue Redis' ones. Best effort: a failure is counted and logged, never raised.
     */
    public void mirrorBroadcast(String appId, long seq, long taskId) {
        disk.logBroadcast(appId, seq, taskId, broadcastLogLength).whenComplete((x, err) -> {
            if (err != null) {
                mirrorFailed.increment();
                log.debug("[logic task={}] broadcast {} not copied to the disk KV: {}", taskId, seq, err.toString());
            }
        });
    }

    /** What a reconciliation came to. */
    public record Reconciled(int tasks, int unrecoverable, int queued, int invalid) {
    }

    /**
     * Applies every recorded outage push to Redis: counters added, devices not reached queued (those Redis does not
     * know as devices of the app counted invalid instead), broadcasts logged in Redis' broadcast log, the task marked
     * sending; then forgets the record. Each task's record is claimed first (one node applies it, however many
     * reconcile at once) and returned when applying failed, for the next run. A task Redis no longer has (it
     * restarted empty) cannot be reconciled: counted and logged as unrecoverable, and forgotten. Not transactional
     * across the two stores: a node dying between its claim and its forget loses that task's outage counters (the
     * copies themselves were delivered or are queued already).
     */
    public synchronized CompletableFuture<Reconciled> reconcile() {
        CompletableFuture<Reconciled> now = running;
        if (now != null && !now.isDone()) {
            return now; // one run at a time; a caller waits for the one under way
        }
        int[] sums = new int[4];
        CompletableFuture<Reconciled> run = pass(sums, 1).thenApply(x -> {
            Reconciled r = new Reconciled(sums[0], sums[1], sums[2], sums[3]);
            if (r.tasks() + r.unrecoverable() > 0) {
                log.info("reconciled the outage's group pushes into Redis: {}", r);
            }
            return r;
        });
        running = run;
        return run;
    }

    /** One pass over the recorded tasks; again while a pass found some (pushes recorded meanwhile), at most 5. */
    private CompletableFuture<Void> pass(int[] sums, int n) {
        int before = sums[0] + sums[1];
        return disk.outageTasks().thenCompose(ids -> {
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (long id : ids) {
                chain = chain.thenCompose(x -> disk.claimOutagePush(id)).thenCompose(mine -> !mine
                        ? CompletableFuture.<Void>completedFuture(null)
                        : reconcileOne(id, sums).handle((y, err) -> err).thenCompose(err -> err == null
                                ? CompletableFuture.<Void>completedFuture(null)
                                : disk.returnOutagePush(id).thenRun(() -> {
                                    throw new CompletionException(err);
                                })));
            }
            return chain;
        }).thenCompose(x -> sums[0] + sums[1] > before && n < 5 ? pass(sums, n + 1)
                : CompletableFuture.completedFuture(null));
    }

    private CompletableFuture<Void> reconcileOne(long taskId, int[] sums) {
        return disk.outagePush(taskId).thenCompose(rec -> tasks.find(taskId).thenCompose(t -> {
            if (t == null) {
                sums[1]++;
                unrecoverable.increment();
                log.warn("[logic task={}] pushed during the Redis outage, but Redis no longer has the task "
                        + "(restarted empty?): its counters {} and {} unreached devices cannot be reconciled", taskId,
                        rec.counterDeltas(), rec.offline().size());
                return disk.forgetOutagePush(taskId);
            }
            String appId = t.body().appId();
            Map<TaskCounter, Long> deltas = new EnumMap<>(TaskCounter.class);
            for (TaskCounter c : TaskCounter.values()) {
                Long d = rec.counterDeltas().get(c.wireName());
                if (d != null) {
                    deltas.put(c, d);
                }
            }
            // Queued as a list push queues every device it targets: the copies written live too, so their acks
            // (waiting in Kafka meanwhile) count as delivered, as for any list push.
            CompletableFuture<Void> queued = rec.offline().isEmpty() && rec.written().isEmpty()
                    ? CompletableFuture.completedFuture(null)
                    : routes.lookup(appId, rec.offline()).thenCompose(found -> {
                        List<String> known = new ArrayList<>(rec.written());
                        found.stream().filter(DeviceRoute::known).map(DeviceRoute::regId).forEach(known::add);
                        long invalid = found.stream().filter(d -> !d.known()).count();
                        if (invalid > 0) {
                            // As a list push outside an outage counts them: invalid, not targeted.
                            deltas.merge(TaskCounter.INVALID, invalid, Long::sum);
                            deltas.merge(TaskCounter.TARGETED, -invalid, Long::sum);
                            deltas.merge(TaskCounter.OFFLINE, -invalid, Long::sum);
                        }
                        sums[2] += known.size() - rec.written().size();
                        sums[3] += (int) invalid;
                        return tasks.enqueue(appId, taskId, known, t.body().createdAtMillis()).thenAccept(a -> { });
                    });
            CompletableFuture<Void> logged = rec.broadcastAppId() == null ? CompletableFuture.completedFuture(null)
                    : tasks.markBroadcast(taskId, ackFilter.bitsFor(brokers.snapshot().brokers().stream()
                                    .mapToLong(BrokerInfo::connections).sum()), ackFilter.probes())
                            .thenCompose(x -> broadcasts.append(appId, taskId, t.body().expiresAtMillis(),
                                    clock.getAsLong()))
                            .thenAccept(seq -> { });
            return queued.thenCompose(x -> logged)
                    .thenCompose(x -> tasks.markSending(taskId))
                    .thenCompose(x -> tasks.increment(taskId, deltas))
                    .thenCompose(x -> disk.forgetOutagePush(taskId))
                    .thenAccept(x -> {
                        sums[0]++;
                        reconciled.increment();
                    });
        }));
    }
}
