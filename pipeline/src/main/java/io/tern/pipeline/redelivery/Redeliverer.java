package io.tern.pipeline.redelivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.pipeline.permit.PermitGate;
import io.tern.store.message.StatusMarks;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PushOutcome;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.RedeliveryQueue;
import io.tern.store.message.StoredMessage;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerRegistry;
import io.tern.store.route.RouteRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The redelivery sweeper: any logic node claims the single pushes due for a delivery check (their direct
 * PUSH failed, or the node that accepted them died before making it), re-reads each device's CURRENT
 * route and sends the message there. A device without a route is left to its reconnect (the broker's
 * connect path delivers its queue); a failed attempt comes due again with backoff, and after
 * {@link RedeliveryConfig#maxAttempts()} the message is left queued for the reconnect and counted.
 * <p>
 * The broker is looked up in the registry snapshot, then read from Redis, then taken from the last
 * address this node saw for it: a snapshot that missed a live broker must not strand its devices.
 * One sweep at a time per node, at most {@code sweepBatch} messages; a full batch sweeps again at once.
 */
public final class Redeliverer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Redeliverer.class);
    /** Brokers remembered by id for when the registry forgot one; more than this and the memory restarts. */
    private static final int MAX_REMEMBERED_BROKERS = 4096;

    private final RedeliveryConfig config;
    private final RedeliveryQueue queue;
    private final MessageRepository messages;
    private final RouteRepository routes;
    private final BrokerDirectory directory;
    private final BrokerRegistry registry;
    private final BrokerLinks links;
    private final StatusMarks marks;
    private final LongSupplier clock;
    private final String prefix;
    private final ScheduledExecutorService scheduler;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile java.util.function.BooleanSupplier paused = () -> false;
    private volatile PermitGate permit; // null: resends are not gated
    private final Map<String, BrokerInfo> lastSeen = new ConcurrentHashMap<>();
    private final AtomicLong backlog = new AtomicLong();
    private final Counter redelivered;
    private final Counter leftForReconnect;
    private final Counter retried;
    private final Counter gaveUp;

    public Redeliverer(RedeliveryConfig config, RedeliveryQueue queue, MessageRepository messages, RouteRepository routes,
                       BrokerDirectory directory, BrokerRegistry registry, BrokerLinks links, StatusMarks marks,
                       LongSupplier clock, MeterRegistry meters, String nodeId) {
        this.config = config;
        this.queue = queue;
        this.messages = messages;
        this.routes = routes;
        this.directory = directory;
        this.registry = registry;
        this.links = links;
        this.marks = marks;
        this.clock = clock;
        this.prefix = "[logic " + nodeId + " redelivery]";
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "logic-" + nodeId + "-redelivery");
            t.setDaemon(true);
            return t;
        });
        String name = "tern.push.redelivery";
        redelivered = Counter.builder(name).tag("outcome", "redelivered")
                .description("single pushes written to their device by the redelivery sweeper").register(meters);
        leftForReconnect = Counter.builder(name).tag("outcome", "offline")
                .description("due checks dropped because the device has no route: its reconnect delivers").register(meters);
        retried = Counter.builder(name).tag("outcome", "failed")
                .description("redelivery attempts that failed and come due again with backoff").register(meters);
        gaveUp = Counter.builder(name).tag("outcome", "gave-up")
                .description("messages left queued for their device's reconnect after the last attempt").register(meters);
        Gauge.builder("tern.push.redelivery.backlog", backlog, AtomicLong::get)
                .description("single pushes due for a delivery check (all nodes), as of the last sweep").register(meters);
    }

    public Redeliverer start() {
        long ms = config.sweepInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::sweep, ms, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    /** Sweeps nothing while {@code paused} (a Redis outage and its reconciliation: what is due waits in Redis). */
    public Redeliverer pauseWhile(java.util.function.BooleanSupplier paused) {
        this.paused = paused;
        return this;
    }

    /**
     * Resends take their delivery from {@code permit} like fresh pushes: ungated, they are load the rate controller
     * cannot hold back, and they come in waves exactly when the downstream is slow.
     */
    public Redeliverer gatedBy(PermitGate permit) {
        this.permit = permit;
        return this;
    }

    /** The direct PUSH failed: check the message again soon instead of at its accept-time due date. */
    public void soon(long msgId) {
        queue.retryAt(msgId, clock.getAsLong() + config.retryDelay().toMillis()).exceptionally(e -> {
            // It stays due at its accept-time check: later, not lost.
            log.debug("{} could not bring msg {} forward: {}", prefix, msgId, e.toString());
            return null;
        });
    }

    /** One sweep: claims what is due and redelivers it; returns when every claimed message is settled. */
    public CompletableFuture<Integer> sweepOnce() {
        long now = clock.getAsLong();
        return queue.sweep(now, config.lease(), config.sweepBatch(), config.maxAttempts()).thenCompose(sweep -> {
            backlog.set(sweep.size());
            List<RedeliveryQueue.Claim> claims = sweep.claims();
            List<CompletableFuture<Void>> work = new ArrayList<>(claims.size());
            for (RedeliveryQueue.Claim c : claims) {
                if (c.gaveUp()) {
                    gaveUp.increment();
                    log.info("{} msg {} not redelivered after {} attempts: left queued for its device's reconnect",
                            prefix, c.msgId(), config.maxAttempts());
                } else {
                    work.add(redeliver(c).exceptionally(e -> {
                        log.debug("{} msg {} attempt {} failed: {}", prefix, c.msgId(), c.attempt(), e.toString());
                        retryLater(c);
                        return null;
                    }));
                }
            }
            return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new)).thenApply(x -> claims.size());
        });
    }

    private void sweep() {
        if (paused.getAsBoolean() || !sweeping.compareAndSet(false, true)) {
            return;
        }
        rememberBrokers();
        CompletableFuture<Integer> run;
        try {
            run = sweepOnce();
        } catch (RuntimeException e) {
            run = CompletableFuture.failedFuture(e);
        }
        run.whenComplete((n, e) -> {
            sweeping.set(false);
            if (e != null) {
                log.debug("{} sweep failed: {}", prefix, e.toString());
            } else if (n >= config.sweepBatch()) {
                scheduler.execute(this::sweep); // more is due: do not wait out the interval
            }
        });
    }

    private CompletableFuture<Void> redeliver(RedeliveryQueue.Claim c) {
        return messages.find(c.msgId()).thenCompose(m -> {
            if (m == null || !needsDelivery(m.effectiveStatus(clock.getAsLong()))) {
                return queue.drop(c.msgId());
            }
            return routes.get(m.appId(), m.regId()).thenCompose(route -> {
                if (route == null) {
                    leftForReconnect.increment();
                    return queue.drop(c.msgId());
                }
                return broker(route.brokerId()).thenCompose(b -> {
                    if (b == null) {
                        log.debug("{} msg {}: broker {} of its route is unknown", prefix, c.msgId(), route.brokerId());
                        retryLater(c);
                        return CompletableFuture.completedFuture(null);
                    }
                    PermitGate gate = permit;
                    CompletableFuture<Void> permitted = gate == null ? CompletableFuture.completedFuture(null)
                            : gate.acquire(1);
                    return permitted.thenCompose(x -> links.send(b, m.appId(), m.regId(), push(m))).thenCompose(outcome -> {
                        if (outcome == PushOutcome.WRITTEN) {
                            redelivered.increment();
                            return marks.mark(m.appId(), m.regId(), m.msgId(), MessageStatus.SENT); // also ends the check
                        }
                        // Not there (stale route, device just moved) or not writable: the route is re-read next time.
                        log.debug("{} msg {} attempt {}: broker {} answered {}", prefix, c.msgId(), c.attempt(), b.id(), outcome);
                        retryLater(c);
                        return CompletableFuture.completedFuture(null);
                    });
                });
            });
        });
    }

    private static boolean needsDelivery(MessageStatus s) {
        return s == MessageStatus.ACCEPTED || s == MessageStatus.OFFLINE;
    }

    private void retryLater(RedeliveryQueue.Claim c) {
        retried.increment();
        queue.retryAt(c.msgId(), clock.getAsLong() + config.backoffMillis(c.attempt())).exceptionally(e -> null);
        // A failed write leaves the lease's due date: it comes back then.
    }

    private CompletableFuture<BrokerInfo> broker(String brokerId) {
        BrokerInfo live = directory.get(brokerId);
        if (live != null) {
            return CompletableFuture.completedFuture(live);
        }
        return registry.find(brokerId).handle((found, e) -> {
            if (found != null) {
                remember(found);
                return found;
            }
            return lastSeen.get(brokerId); // its liveness key lapsed (e.g. a Redis outage), its link may still work
        });
    }

    private void rememberBrokers() {
        directory.snapshot().brokers().forEach(this::remember);
    }

    private void remember(BrokerInfo b) {
        if (lastSeen.size() >= MAX_REMEMBERED_BROKERS && !lastSeen.containsKey(b.id())) {
            lastSeen.clear();
        }
        lastSeen.put(b.id(), b);
    }

    private static Frame.Push push(StoredMessage m) {
        return new Frame.Push(m.msgId(), m.expiresAtMillis(), m.kind(), m.payload().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
