package io.tern.pipeline.group;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.protocol.frame.Frame;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.route.DeviceRoute;
import io.tern.store.route.RouteRepository;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Sends one task to a chunk of at most 1,000 devices: one round trip for their routes, the task
 * queued for every known device (the durable point: a device not reached now gets it on
 * reconnect, and its ack counts once), then one PUSH_BATCH per broker for the devices that newly
 * got it. Devices a batch did not reach (its broker's link failed or timed out, or the broker found
 * them not connected or not writable) are tried again at their current route, up to {@code retries}
 * more rounds {@code retryDelay} apart, before the chunk's counters are recorded; what is still not
 * reached stays queued for the reconnect. Used by list pushes and by tag-push jobs; repeats and
 * replays are no-ops per device.
 */
public final class GroupFanout {
    private static final Logger log = LoggerFactory.getLogger(GroupFanout.class);
    public static final int MAX_CHUNK = 1000;

    /** What a chunk came to: regIds that are not devices of the app, and how many were written live. */
    public record ChunkResult(List<String> invalidRegIds, int targeted, int written) {
    }

    private final RouteRepository routes;
    private final TaskRepository tasks;
    private final BrokerDirectory brokers;
    private final BrokerLinks links;
    private final int retries;
    private final Executor retryDelay;
    private final Counter written;
    private final Counter queued;
    private final Counter retried;

    /**
     * @param retries    rounds of retries for devices a batch did not reach (0: none)
     * @param retryDelay wait before each retry round
     */
    public GroupFanout(RouteRepository routes, TaskRepository tasks, BrokerDirectory brokers, BrokerLinks links,
                       int retries, Duration retryDelay, MeterRegistry registry) {
        this.retries = retries;
        this.retryDelay = CompletableFuture.delayedExecutor(retryDelay.toMillis(), TimeUnit.MILLISECONDS);
        this.routes = routes;
        this.tasks = tasks;
        this.brokers = brokers;
        this.links = links;
        this.written = Counter.builder("tern.push.group.copies").tag("outcome", "written").register(registry);
        this.queued = Counter.builder("tern.push.group.copies").tag("outcome", "offline").register(registry);
        this.retried = Counter.builder("tern.push.group.retried")
                .description("list/tag push copies sent again to their device's current route after a batch missed them")
                .register(registry);
    }

    public CompletableFuture<ChunkResult> send(StoredTask task, List<String> regIds) {
        if (regIds.size() > MAX_CHUNK) {
            throw new IllegalArgumentException("chunk of " + regIds.size() + " > " + MAX_CHUNK);
        }
        String appId = task.body().appId();
        long taskId = task.body().taskId();
        List<String> unique = List.copyOf(new LinkedHashSet<>(regIds));
        return routes.lookup(appId, unique).thenCompose(found -> {
            List<String> invalid = new ArrayList<>();
            List<DeviceRoute> known = new ArrayList<>(found.size());
            for (DeviceRoute d : found) {
                if (d.known()) {
                    known.add(d);
                } else {
                    invalid.add(d.regId());
                }
            }
            List<String> knownIds = known.stream().map(DeviceRoute::regId).toList();
            return tasks.enqueue(appId, taskId, knownIds, task.body().createdAtMillis()).thenCompose(added -> {
                // Only devices that newly got the task are sent and counted: exactly once per device.
                Map<BrokerInfo, List<String>> byBroker = new HashMap<>();
                int targeted = 0;
                int offlineByRoute = 0;
                for (int i = 0; i < known.size(); i++) {
                    if (!added.get(i)) {
                        continue;
                    }
                    targeted++;
                    DeviceRoute d = known.get(i);
                    BrokerInfo b = d.route() == null ? null : brokers.get(d.route().brokerId());
                    if (b == null) {
                        offlineByRoute++;
                    } else {
                        byBroker.computeIfAbsent(b, x -> new ArrayList<>()).add(d.regId());
                    }
                }
                int newTargets = targeted;
                int offlineNow = offlineByRoute;
                return deliver(task, byBroker, 0).thenCompose(live -> {
                    int offline = offlineNow + (newTargets - offlineNow - live);
                    Map<TaskCounter, Long> deltas = new EnumMap<>(TaskCounter.class);
                    deltas.put(TaskCounter.TARGETED, (long) newTargets);
                    deltas.put(TaskCounter.SENT, (long) live);
                    deltas.put(TaskCounter.OFFLINE, (long) offline);
                    deltas.put(TaskCounter.INVALID, (long) invalid.size());
                    written.increment(live);
                    queued.increment(offline);
                    // Replication awaited last: a refused answer (503) still leaves the copies sent and counted.
                    return tasks.increment(taskId, deltas)
                            .thenCompose(y -> tasks.copiesReplicated(appId, knownIds))
                            .thenApply(y -> new ChunkResult(List.copyOf(invalid), newTargets, live));
                });
            });
        });
    }

    /** What one round of batches came to: copies written, and devices not reached. */
    private record Round(int written, List<String> missed) {
    }

    /**
     * One PUSH_BATCH per broker, then retry rounds for the devices not reached, at their current route.
     * A device still not reached after the last round stays queued (counted offline).
     */
    private CompletableFuture<Integer> deliver(StoredTask task, Map<BrokerInfo, List<String>> byBroker, int round) {
        if (byBroker.isEmpty()) {
            return CompletableFuture.completedFuture(0);
        }
        Frame.Push push = pushOf(task);
        List<CompletableFuture<Round>> results = new ArrayList<>(byBroker.size());
        byBroker.forEach((broker, regIds) -> results.add(
                links.sendBatch(broker, task.body().appId(), regIds, push)
                        .handle((r, err) -> {
                            if (err != null) {
                                log.debug("[logic task={}] batch to broker {} failed: {}", task.body().taskId(),
                                        broker.id(), err.toString());
                                return new Round(0, regIds);
                            }
                            return new Round(r.written(), r.notConnected());
                        })));
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenCompose(x -> {
            int written = 0;
            List<String> missed = new ArrayList<>();
            for (CompletableFuture<Round> r : results) {
                written += r.join().written();
                missed.addAll(r.join().missed());
            }
            if (missed.isEmpty() || round >= retries) {
                return CompletableFuture.completedFuture(written);
            }
            int sofar = written;
            return CompletableFuture.supplyAsync(() -> missed, retryDelay)
                    .thenCompose(again -> routes.lookup(task.body().appId(), again))
                    .thenCompose(found -> {
                        Map<BrokerInfo, List<String>> next = new HashMap<>();
                        for (DeviceRoute d : found) {
                            BrokerInfo b = d.route() == null ? null : brokers.get(d.route().brokerId());
                            if (b != null) { // no route now: its reconnect delivers it
                                next.computeIfAbsent(b, y -> new ArrayList<>()).add(d.regId());
                            }
                        }
                        retried.increment(next.values().stream().mapToInt(List::size).sum());
                        return deliver(task, next, round + 1);
                    })
                    .handle((more, err) -> sofar + (err == null ? more : 0));
        });
    }

    static Frame.Push pushOf(StoredTask task) {
        return new Frame.Push(task.body().taskId(), task.body().expiresAtMillis(), task.body().kind(),
                task.body().payload().getBytes(StandardCharsets.UTF_8));
    }
}
