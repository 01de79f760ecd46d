package io.tern.logic.schedule;

import io.tern.pipeline.group.GroupTarget;
import io.tern.pipeline.group.TagExpression;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerSnapshot;
import io.tern.store.tag.TagRepository;
import io.tern.store.throttle.ReplicaFloor;
import io.tern.store.throttle.ReplicaFloorRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Scales the bypass consumers up ahead of large scheduled pushes: scheduling a push whose target is estimated
 * over {@code peak-threshold} devices writes a replica floor {@code [sendAt - peak-lead, sendAt + peak-hold]} with
 * {@code peak-replicas}, under the id {@code task-<taskId>}; recalling it deletes that floor.
 *
 * <p>The floor is state the rate controller reads on every tick, not a trigger fired here: it acts once however
 * often logic nodes or controllers restart, and scheduling the same task again replaces it instead of adding one.
 *
 * <p>Target size estimates: a list counts its regIds; a tag expression the devices of its {@code any} tags added
 * up (else the smallest of its {@code all} tags), ignoring {@code none}: an upper bound, since devices can carry
 * several tags; {@code all} the sessions the live brokers report now (a broadcast reaches the devices online).
 */
public final class PeakFloors {
    private static final Logger log = LoggerFactory.getLogger(PeakFloors.class);

    /** How many devices a target reaches, roughly (see the class comment). */
    @FunctionalInterface
    public interface TargetSize {
        CompletableFuture<Long> estimate(String appId, GroupTarget target);
    }

    private final ScheduleConfig config;
    private final ReplicaFloorRepository floors;
    private final TargetSize sizes;
    private final String owner;

    public PeakFloors(ScheduleConfig config, ReplicaFloorRepository floors, TargetSize sizes, String owner) {
        this.config = config;
        this.floors = floors;
        this.sizes = sizes;
        this.owner = owner;
    }

    public static String floorId(long taskId) {
        return "task-" + taskId;
    }

    /** The estimate described in the class comment, from the tag sets and the live brokers. */
    public static TargetSize estimator(TagRepository tags, Supplier<BrokerSnapshot> brokers) {
        return (appId, target) -> {
            if (target instanceof GroupTarget.ListTarget l) {
                return CompletableFuture.completedFuture((long) l.regIds().size());
            }
            if (target instanceof GroupTarget.TagTarget t) {
                TagExpression e = t.expression();
                boolean byAny = !e.any().isEmpty();
                List<CompletableFuture<Long>> counts = new ArrayList<>();
                for (String tag : byAny ? e.any() : e.all()) {
                    counts.add(tags.size(appId, tag));
                }
                return CompletableFuture.allOf(counts.toArray(CompletableFuture[]::new)).thenApply(x -> {
                    long sum = 0;
                    long min = Long.MAX_VALUE;
                    for (CompletableFuture<Long> c : counts) {
                        sum += c.join();
                        min = Math.min(min, c.join());
                    }
                    return byAny ? sum : counts.isEmpty() ? 0L : min;
                });
            }
            long online = 0;
            for (BrokerInfo b : brokers.get().brokers()) {
                online += b.connections();
            }
            return CompletableFuture.completedFuture(online);
        };
    }

    /**
     * Writes the task's floor when its target is large. Never fails: a push is scheduled whether or not its floor
     * could be written (the lag-driven scaling still follows the push when it fires); a failure is logged.
     */
    public CompletableFuture<Void> scheduled(long taskId, String appId, long sendAtMillis, String targetJson) {
        GroupTarget target;
        try {
            target = GroupTarget.fromJson(targetJson);
        } catch (RuntimeException e) {
            log.debug("[schedule {} task={}] no peak estimate for target {}: {}", owner, taskId, targetJson, e.toString());
            return CompletableFuture.completedFuture(null);
        }
        return sizes.estimate(appId, target).thenCompose(size -> {
            if (size <= config.peakThreshold()) {
                // A task scheduled again with a smaller target loses the floor it had.
                return floors.delete(floorId(taskId)).thenApply(x -> (Void) null);
            }
            ReplicaFloor floor = new ReplicaFloor(floorId(taskId), sendAtMillis - config.peakLead().toMillis(),
                    sendAtMillis + config.peakHold().toMillis(), config.peakReplicas(),
                    "scheduled task " + taskId + " of app " + appId + " to ~" + size + " devices");
            return floors.put(floor).thenAccept(stored -> {
                if (stored) {
                    log.info("[schedule {} task={}] replica floor {} from {} to {} (~{} devices)", owner, taskId,
                            floor.replicas(), floor.fromMillis(), floor.untilMillis(), size);
                } else {
                    log.warn("[schedule {} task={}] replica floor not written: the floor table is full", owner, taskId);
                }
            });
        }).exceptionally(e -> {
            log.warn("[schedule {} task={}] replica floor not written: {}", owner, taskId, e.toString());
            return null;
        });
    }

    /** Deletes the task's floor (recall). Never fails; an expired floor goes by itself. */
    public CompletableFuture<Void> cancelled(long taskId) {
        return floors.delete(floorId(taskId)).handle((x, e) -> {
            if (e != null) {
                log.warn("[schedule {} task={}] replica floor not deleted (it expires by itself): {}", owner, taskId,
                        e.toString());
            }
            return null;
        });
    }
}
