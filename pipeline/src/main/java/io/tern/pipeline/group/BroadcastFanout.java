package io.tern.pipeline.group;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.protocol.frame.Frame;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.task.StoredTask;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The fan-out of accepted broadcasts to the brokers, in the background: an all push is answered once the
 * broadcast is in the app's log and its fan-out is in the fan-out index ({@code tern:{fanout}}) under this
 * node's lease; then one BROADCAST goes to each live broker, and each broker's answer adds its copies to the
 * task's targeted and sent counters, once per broker ({@link TaskRepository#fanoutBrokerDone}). A BROADCAST
 * whose link fails or whose reply times out is sent to that broker again, up to {@code retries} times
 * {@code retryDelay} apart; a broker that never answers is given up (its devices catch up from the log on
 * reconnect). The fan-out leaves the index when every broker answered or was given up.
 * <p>
 * Crash safety: leases of running fan-outs are renewed every third of {@code logic.task-lease-ttl}; a node that
 * dies stops renewing, and any node's sweeper takes the fan-out over and sends it to the live brokers that have
 * not answered yet. A broker that wrote it but whose answer was not recorded gets it again and answers from its
 * memory of recent broadcasts without writing again (brokers remember an app's broadcast sequence numbers), so
 * no device is written a broadcast twice and no copy is counted twice. Takeovers are bounded
 * ({@code logic.fanout-takeovers}); fan-outs running on one node are bounded ({@code logic.max-fanouts}).
 */
public final class BroadcastFanout implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BroadcastFanout.class);

    private final TaskRepository tasks;
    private final BrokerDirectory brokers;
    private final BrokerLinks links;
    private final int retries;
    private final Executor retryDelay;
    private final RecoveryConfig recovery;
    private final LongSupplier clock;
    private final String owner;
    private final Semaphore room;
    /** Fan-outs running on this node, whose leases it renews (bounded by {@code room}). */
    private final Set<Long> active = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService leases;
    private final Counter resumed;
    private final Counter givenUp;
    private volatile boolean closed;

    public BroadcastFanout(TaskRepository tasks, BrokerDirectory brokers, BrokerLinks links, int retries,
                           Duration retryDelay, RecoveryConfig recovery, LongSupplier clock, MeterRegistry registry,
                           String owner) {
        this.tasks = tasks;
        this.brokers = brokers;
        this.links = links;
        this.retries = retries;
        this.retryDelay = CompletableFuture.delayedExecutor(retryDelay.toMillis(), TimeUnit.MILLISECONDS);
        this.recovery = recovery;
        this.clock = clock;
        this.owner = owner;
        this.room = new Semaphore(recovery.maxFanouts());
        this.leases = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, owner + "-fanout-leases");
            t.setDaemon(true);
            return t;
        });
        this.resumed = Counter.builder("tern.push.broadcast.fanouts").tag("outcome", "resumed")
                .description("broadcast fan-outs taken over from a node whose lease ran out").register(registry);
        this.givenUp = Counter.builder("tern.push.broadcast.fanouts").tag("outcome", "given-up")
                .description("broadcast fan-outs given up after their takeovers").register(registry);
        Gauge.builder("tern.push.broadcast.fanning", active, Set::size)
                .description("broadcast fan-outs running on this node").register(registry);
        long renew = Math.max(1, recovery.taskLeaseTtl().toMillis() / 3);
        leases.scheduleWithFixedDelay(this::renewLeases, renew, renew, TimeUnit.MILLISECONDS);
        leases.scheduleWithFixedDelay(this::sweep, recovery.taskSweep().toMillis(), recovery.taskSweep().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * Records the broadcast with {@code logged} (which appends it to the app's log and returns its sequence
     * number), indexes its fan-out under this node's lease, and completes with the sequence number; the
     * fan-out then runs in the background. 429 when this node runs {@code logic.max-fanouts} already.
     */
    public CompletableFuture<Long> start(StoredTask task, Supplier<CompletableFuture<Long>> logged) {
        if (!room.tryAcquire()) {
            return CompletableFuture.failedFuture(new PushException(PushError.OVERLOADED,
                    "too many broadcasts being sent; retry later", null, 1));
        }
        long taskId = task.body().taskId();
        CompletableFuture<Long> accepted;
        try {
            CompletableFuture<Long> seq = logged.get();
            // Issued behind the log's first commands, not after its answer: one round trip less, and on one Redis
            // the entry is still in the log first. Whatever stops the append before bcastSeq is on the task (a
            // crash, an error), a sweeper finds the index entry with nothing to send and drops it (claimFanout).
            CompletableFuture<Void> indexed = tasks.startFanout(taskId, leaseEnd());
            accepted = seq.thenCombine(indexed, (s, x) -> s);
        } catch (RuntimeException e) {
            room.release();
            throw e;
        }
        return accepted.whenComplete((seq, err) -> {
            if (err != null) {
                room.release();
            } else {
                active.add(taskId);
                run(task, seq, List.of());
            }
        });
    }

    private long leaseEnd() {
        return clock.getAsLong() + recovery.taskLeaseTtl().toMillis();
    }

    /** Fan-outs running on this node now. */
    public int running() {
        return active.size();
    }

    /** Sends the broadcast to every live broker not in {@code done}; holds a {@code room} permit, released at the end. */
    private void run(StoredTask task, long seq, List<String> done) {
        long taskId = task.body().taskId();
        String appId = task.body().appId();
        Frame.Push push = new Frame.Push(taskId, task.body().expiresAtMillis(), task.body().kind(),
                task.body().payload().getBytes(StandardCharsets.UTF_8), seq);
        // A callback needs every device's receipt; without one, brokers may just count the acks.
        String callback = task.body().callbackUrl();
        boolean countAcks = callback == null || callback.isEmpty();
        List<CompletableFuture<Void>> perBroker = new ArrayList<>();
        for (BrokerInfo b : brokers.snapshot().brokers()) {
            if (!done.contains(b.id())) {
                perBroker.add(broadcast(b, appId, push, countAcks, taskId, 0).thenCompose(written -> written < 0
                        ? CompletableFuture.completedFuture(null)
                        : tasks.fanoutBrokerDone(taskId, b.id(), written).thenApply(x -> null)));
            }
        }
        CompletableFuture.allOf(perBroker.toArray(CompletableFuture[]::new))
                // Stopping here with brokers cut off is not finishing: its lease runs out and another node goes on.
                .thenCompose(x -> closed ? CompletableFuture.completedFuture(null) : tasks.finishFanout(taskId))
                .whenComplete((x, err) -> {
                    if (err != null) {
                        // Not recorded as finished: the lease runs out and a sweeper sends to the brokers still missing.
                        log.warn("[logic task={}] broadcast fan-out not recorded as finished, left to a sweeper: {}",
                                taskId, err.toString());
                    }
                    active.remove(taskId);
                    room.release();
                });
    }

    /**
     * One broker's BROADCAST, sent again (to its current address) when the link fails or the reply times out;
     * completes with the copies written, or -1 when given up.
     */
    private CompletableFuture<Integer> broadcast(BrokerInfo b, String appId, Frame.Push push, boolean countAcks,
                                                 long taskId, int attempt) {
        return links.broadcast(b, appId, push, countAcks).handle((r, err) -> {
            if (err == null) {
                return CompletableFuture.completedFuture(r.written());
            }
            if (attempt >= retries || closed) {
                log.warn("[logic task={}] broadcast to broker {} failed, its devices catch up on reconnect: {}", taskId,
                        b.id(), err.toString());
                return CompletableFuture.completedFuture(-1);
            }
            log.info("[logic task={}] broadcast to broker {} failed, sending it again: {}", taskId, b.id(), err.toString());
            return CompletableFuture.supplyAsync(() -> {
                BrokerInfo now = brokers.get(b.id());
                return now == null ? b : now;
            }, retryDelay).thenCompose(again -> broadcast(again, appId, push, countAcks, taskId, attempt + 1));
        }).thenCompose(f -> f);
    }

    private void renewLeases() {
        if (active.isEmpty()) {
            return;
        }
        try {
            tasks.renewFanouts(List.copyOf(active), leaseEnd()).get(recovery.taskLeaseTtl().toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.debug("[logic {}] fan-out lease renewal failed: {}", owner, e.toString());
        }
    }

    /** Takes over fan-outs whose owner's lease ran out, as many as this node has room for. */
    void sweep() {
        if (closed) {
            return;
        }
        try {
            int max = Math.min(recovery.taskSweepMax(), room.availablePermits());
            if (max <= 0) {
                return;
            }
            for (long taskId : tasks.fanoutsDue(clock.getAsLong(), max).join()) {
                if (!room.tryAcquire()) {
                    return;
                }
                TaskRepository.FanoutClaim c;
                try {
                    c = tasks.claimFanout(taskId, clock.getAsLong(), leaseEnd(), recovery.fanoutTakeovers()).join();
                } catch (RuntimeException e) {
                    room.release();
                    throw e;
                }
                if (c == null) {
                    room.release(); // taken by another node's sweep, or its task is gone
                } else if (c.task().state() == TaskState.RECALLED
                        || c.task().body().expiresAtMillis() <= clock.getAsLong()) {
                    room.release();
                    tasks.finishFanout(taskId).join(); // never sent once recalled or expired
                } else if (c.givenUp()) {
                    room.release();
                    givenUp.increment();
                    log.error("[logic task={}] broadcast fan-out given up after {} takeovers; its devices catch up "
                            + "on reconnect", taskId, recovery.fanoutTakeovers());
                    tasks.finishFanout(taskId).join();
                } else {
                    resumed.increment();
                    log.info("[logic task={}] finishing the broadcast fan-out of a node whose lease ran out "
                            + "(brokers done: {})", taskId, c.brokersDone());
                    active.add(taskId);
                    run(c.task(), c.broadcastSeq(), c.brokersDone());
                }
            }
        } catch (RuntimeException e) {
            log.warn("[logic {}] fan-out sweep failed: {}", owner, e.toString());
        }
    }

    /**
     * Stops here without finishing: fan-outs in flight are handed back (their lease ends now) for another node's
     * sweeper to finish; if Redis does not take that, their lease runs out by itself.
     */
    @Override
    public void close() {
        closed = true;
        leases.shutdownNow();
        if (!active.isEmpty()) {
            try {
                tasks.renewFanouts(List.copyOf(active), clock.getAsLong()).get(1, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("[logic {}] fan-outs not handed back, their leases run out: {}", owner, e.toString());
            }
        }
    }
}
