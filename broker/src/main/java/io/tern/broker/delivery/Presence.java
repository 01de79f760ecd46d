package io.tern.broker.delivery;

import io.netty.channel.Channel;
import io.tern.runtime.log.LogThrottle;
import io.tern.broker.config.BrokerConfig;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.broker.session.Session;
import io.tern.broker.session.SessionLifecycle;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.store.broadcast.BroadcastEntry;
import io.tern.store.broadcast.BroadcastLog;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.message.PendingMessage;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.diskkv.AsideMessage;
import io.tern.store.route.Route;
import io.tern.store.route.RouteChange;
import io.tern.store.route.RouteRepository;
import io.tern.store.route.SessionEvictions;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Keeps the store's view of this broker's devices: on connect, the route (so pushes find the
 * device; retried, and the device disconnected when it cannot be written; a device that came
 * from another broker has its old session there closed), THEN the offline queue (read after the route is written, so a message accepted in
 * between is either pushed online or already queued), then the app broadcasts the device
 * missed (after its lastBroadcastSeq, or without one, those broadcast since its previous
 * connect); on close, the route again, deleted only if it is still this connection's.
 * Everything is Lettuce futures: no event loop ever waits.
 *
 * <p>Through a Redis outage ({@link Aside}): every route change also goes to tern.routes (the copy logic nodes route
 * by while Redis is away); while Redis is in outage the route write is skipped (the restore pass after the outage
 * writes it) and the device is served; on connect the device also gets what the logic nodes queued for it in the
 * disk KV, each entry removed there once the device acks it.
 *
 * <p>Broadcast catch-up needs no route: the session is in the per-app index before the log is
 * read, so a broadcast logged after the read reaches the device live, and one logged before it
 * is in the read (possibly both: the SDK drops the duplicate by msgId).
 */
public final class Presence implements SessionLifecycle {
    private static final Logger log = LoggerFactory.getLogger(Presence.class);

    private final String brokerId;
    private final RouteRepository routes;
    private final MessageRepository messages;
    private final BroadcastLog broadcasts;
    private final TaskRepository tasks;
    private final int pendingLimit;
    private final int catchupLimit;
    private final BrokerMetrics metrics;
    private final LongSupplier clock;
    private final BrokerConfig.Recovery recovery;
    private final Disconnects disconnects;
    private final SessionEvictions evictions;
    /** A broadcast copy written on catch-up: one more device targeted and sent to. */
    private static final Map<TaskCounter, Long> CATCHUP_COUNTS = Map.of(TaskCounter.TARGETED, 1L, TaskCounter.SENT, 1L);
    private static final Map<String, Long> CATCHUP_COUNTS_ASIDE = Map.of(TaskCounter.TARGETED.wireName(), 1L,
            TaskCounter.SENT.wireName(), 1L);

    /** What keeps devices served while Redis is away. */
    private final Aside aside;

    /**
     * What a broker keeps aside from Redis for an outage.
     *
     * @param routeCopies   where every route change goes (tern.routes)
     * @param redisOutage   true while Redis is in outage
     * @param diskKv        the disk KV whose per-device queue is read on connect; null when none
     * @param followUpDelay a connect during an outage reads the disk-KV queue once more after this: logic nodes
     *                      route by the copy of tern.routes, which may lag the connect
     */
    public record Aside(Consumer<RouteChange> routeCopies, BooleanSupplier redisOutage, DiskKv diskKv,
                        Duration followUpDelay) {
    }

    private final LogThrottle diskKvWarnings = new LogThrottle(Duration.ofSeconds(10));

    // Route deletes still in flight: shutdown waits for them before closing Redis.
    private final AtomicInteger deletesInFlight = new AtomicInteger();

    /**
     * @param pendingLimit most queued messages delivered on connect (0: none)
     * @param catchupLimit most missed broadcasts delivered on connect (0: none)
     * @param recovery     route write retries
     * @param evictions    where a takeover from another broker is announced
     */
    public Presence(String brokerId, RouteRepository routes, MessageRepository messages, BroadcastLog broadcasts,
                    TaskRepository tasks, int pendingLimit, int catchupLimit, BrokerMetrics metrics, LongSupplier clock,
                    BrokerConfig.Recovery recovery, Disconnects disconnects, SessionEvictions evictions, Aside aside) {
        this.aside = aside;
        this.recovery = recovery;
        this.disconnects = disconnects;
        this.evictions = evictions;
        this.brokerId = brokerId;
        this.routes = routes;
        this.messages = messages;
        this.broadcasts = broadcasts;
        this.tasks = tasks;
        this.pendingLimit = pendingLimit;
        this.catchupLimit = catchupLimit;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public void opened(Session session, long lastBroadcastSeq) {
        long now = clock.getAsLong();
        aside.routeCopies().accept(RouteChange.connected(session.appId(), session.regId(), session.route(), now));
        // Issued before the route write below, which overwrites the device's last connect time.
        CompletableFuture<List<BroadcastEntry>> missed = missedBroadcasts(session, lastBroadcastSeq, now);
        CompletableFuture<Void> routed = new CompletableFuture<>();
        boolean outage = aside.redisOutage().getAsBoolean();
        if (outage) {
            // Served without it: the route is on tern.routes, and the restore pass after the outage writes it here.
            metrics.recovery("route-write-skipped-outage");
            routed.completeExceptionally(new IllegalStateException("Redis outage"));
        } else {
            writeRoute(session, now, 1, routed);
        }
        routed.handle((x, err) -> err == null)
                .thenCompose(written -> written ? queued(session, now) : CompletableFuture.completedFuture(
                        List.<PendingMessage>of()))
                // The queue first, then the broadcasts, each whether or not the other could be read.
                .handle((pending, err) -> pending == null ? List.<PendingMessage>of() : pending)
                .thenCombine(diskQueued(session, now), Presence::concat)
                .thenCombine(missed, (pending, bcasts) -> {
                    if (!pending.pending().isEmpty() || !bcasts.isEmpty()) {
                        // Lettuce completes on its own threads: write from the device's loop.
                        session.channel().eventLoop().execute(() -> {
                            deliver(session, pending);
                            deliverBroadcasts(session, bcasts);
                        });
                    }
                    return null;
                });
        if (outage && aside.diskKv() != null) {
            followUp(session);
        }
    }

    /** Queued messages to write on connect: {@code fromDiskKv} are the msgIds read from the disk KV's queue. */
    private record Pending(List<PendingMessage> pending, Set<Long> fromDiskKv) {
    }

    /** Redis' queue, then the disk KV's entries not in it (the logic node may have reconciled one meanwhile). */
    private static Pending concat(List<PendingMessage> redis, List<PendingMessage> disk) {
        if (disk.isEmpty()) {
            return new Pending(redis, Set.of());
        }
        Set<Long> seen = new HashSet<>();
        List<PendingMessage> all = new ArrayList<>(redis.size() + disk.size());
        for (PendingMessage m : redis) {
            seen.add(m.msgId());
            all.add(m);
        }
        Set<Long> fromDisk = new HashSet<>();
        for (PendingMessage m : disk) {
            if (seen.add(m.msgId())) {
                all.add(m);
                fromDisk.add(m.msgId());
            }
        }
        return new Pending(all, fromDisk);
    }

    /**
     * The device's queue in the disk KV (messages accepted for it while it was offline during a Redis outage); empty
     * when there is no disk KV, the session is gone, or the read failed (counted). Expired entries are removed.
     */
    private CompletableFuture<List<PendingMessage>> diskQueued(Session session, long now) {
        DiskKv disk = aside.diskKv();
        if (disk == null || pendingLimit == 0 || !session.usable()) {
            return CompletableFuture.completedFuture(List.of());
        }
        String app = session.appId();
        String reg = session.regId();
        CompletableFuture<List<DiskKv.Queued>> read;
        try {
            read = disk.queued(app, reg, pendingLimit);
        } catch (RuntimeException e) { // the connection refused the command outright
            read = CompletableFuture.failedFuture(e);
        }
        return read.handle((list, err) -> {
            if (err != null) {
                metrics.storeFailure("disk-kv-queue-read");
                // Every connect reads it: a disk KV that is down would otherwise log once per device.
                if (diskKvWarnings.allow()) {
                    log.warn("[broker {}] disk KV queue reads fail (counted as store failures, op disk-kv-queue-read; "
                            + "devices connect without what it holds until it answers): {}", brokerId, err.toString());
                }
                return List.of();
            }
            List<PendingMessage> out = new ArrayList<>(list.size());
            List<Long> gone = new ArrayList<>();
            for (DiskKv.Queued q : list) {
                if (q.json() == null) {
                    gone.add(q.msgId()); // its record expired with its TTL
                    continue;
                }
                NewMessage m;
                try {
                    m = AsideMessage.fromJson(q.json()).message();
                } catch (IllegalArgumentException e) {
                    log.warn("[broker {} app={} reg={}] disk KV entry {} is not a queued message, left there: {}",
                            brokerId, app, reg, q.msgId(), e.getMessage());
                    continue;
                }
                if (m.expiresAtMillis() <= now) {
                    gone.add(q.msgId());
                    continue;
                }
                out.add(new PendingMessage(m.msgId(), m.kind(), m.payload(), m.expiresAtMillis()));
            }
            if (!gone.isEmpty()) {
                dequeue(session, gone);
            }
            return out;
        });
    }

    /**
     * A connect during an outage reads the disk-KV queue once more a little later: a logic node that routed by a
     * copy of tern.routes older than this connect queued there instead of pushing.
     */
    private void followUp(Session session) {
        try {
            session.channel().eventLoop().schedule(() -> {
                if (!session.usable()) {
                    return;
                }
                diskQueued(session, clock.getAsLong()).thenAccept(disk -> {
                    if (!disk.isEmpty()) {
                        session.channel().eventLoop().execute(() -> deliver(session, concat(List.of(), disk)));
                    }
                });
            }, aside.followUpDelay().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    private void dequeue(Session session, List<Long> msgIds) {
        try {
            aside.diskKv().dequeue(session.appId(), session.regId(), msgIds).whenComplete((x, err) -> {
                if (err != null) {
                    metrics.storeFailure("disk-kv-dequeue");
                    log.debug("[broker {} app={} reg={}] disk KV dequeue of {} failed: {}", brokerId, session.appId(),
                            session.regId(), msgIds, err.toString());
                }
            });
        } catch (RuntimeException e) {
            metrics.storeFailure("disk-kv-dequeue");
        }
    }

    /** A message from the disk KV's queue was acked: it leaves the queue. */
    @Override
    public void acked(Session session, long msgId) {
        if (aside.diskKv() != null && session.ackedFromDiskKv(msgId)) {
            metrics.recovery("disk-kv-delivered");
            dequeue(session, List.of(msgId));
        }
    }

    /**
     * Writes the session's route, retrying with doubling pauses; after the last failed attempt the
     * device is disconnected with SERVER_BUSY so it reconnects (possibly elsewhere) instead of
     * staying connected where no push can find it. Completes {@code routed} once written, fails it
     * when given up.
     */
    private void writeRoute(Session session, long now, int attempt, CompletableFuture<Void> routed) {
        routes.put(session.appId(), session.regId(), session.route(), now).whenComplete((previous, err) -> {
            if (err == null) {
                if (previous != null && !previous.brokerId().equals(brokerId)) {
                    evictElsewhere(session, previous);
                }
                routed.complete(null);
                return;
            }
            metrics.storeFailure("route-put");
            if (!session.usable()) {
                routed.completeExceptionally(err);
                return;
            }
            if (aside.redisOutage().getAsBoolean()) {
                // Served through the outage: the route is on tern.routes; the restore pass writes it afterwards.
                metrics.recovery("route-write-skipped-outage");
                routed.completeExceptionally(err);
                return;
            }
            if (attempt < recovery.routeWriteAttempts()) {
                metrics.recovery("route-write-retry");
                long delay = recovery.routeWriteBackoff().toMillis() << Math.min(attempt - 1, 16);
                log.debug("[broker {} app={} reg={}] route write failed (attempt {}), retrying in {} ms: {}", brokerId,
                        session.appId(), session.regId(), attempt, delay, err.toString());
                try {
                    session.channel().eventLoop().schedule(() -> writeRoute(session, now, attempt + 1, routed),
                            delay, TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException e) {
                    routed.completeExceptionally(err); // the broker is stopping
                }
                return;
            }
            metrics.recovery("route-write-gave-up");
            log.warn("[broker {} app={} reg={}] route write failed {} times, disconnecting the device so it reconnects: {}",
                    brokerId, session.appId(), session.regId(), attempt, err.toString());
            session.channel().eventLoop().execute(() ->
                    disconnects.send(session, ReasonCode.SERVER_BUSY, "cannot record this connection; reconnect"));
            routed.completeExceptionally(err);
        });
    }

    /** The device was connected to another broker: ask it to close that session (fire and forget). */
    private void evictElsewhere(Session session, Route previous) {
        log.debug("[broker {} app={} reg={}] took over the route from broker {}", brokerId, session.appId(),
                session.regId(), previous.brokerId());
        evictions.publish(session.appId(), session.regId(), previous).whenComplete((n, err) -> {
            if (err != null) {
                metrics.storeFailure("eviction-publish");
            } else {
                metrics.recovery("eviction-sent");
            }
        });
    }

    /** The device's offline queue, read after its route is written; empty when off or the session is gone. */
    private CompletableFuture<List<PendingMessage>> queued(Session session, long now) {
        if (pendingLimit == 0 || !session.usable()) {
            return CompletableFuture.completedFuture(List.of());
        }
        return messages.pending(session.appId(), session.regId(), now, pendingLimit).whenComplete((list, err) -> {
            if (err != null) {
                metrics.storeFailure("pending-read");
                log.warn("[broker {} app={} reg={}] offline queue read failed: {}", brokerId, session.appId(),
                        session.regId(), err.toString());
            }
        });
    }

    /**
     * After a Redis outage: writes the live session's route again (unless the device moved to
     * another broker meanwhile: then this session is closed as replaced), then delivers its offline
     * queue, where messages accepted while this broker looked dead were put.
     *
     * @return completes when done for this session; fails when Redis failed again
     */
    public CompletableFuture<Void> restore(Session session) {
        if (!session.usable()) {
            return CompletableFuture.completedFuture(null);
        }
        long now = clock.getAsLong();
        return routes.restore(session.appId(), session.regId(), session.route(), now).thenCompose(other -> {
            if (other != null) {
                metrics.recovery("route-moved");
                session.channel().eventLoop().execute(() ->
                        disconnects.send(session, ReasonCode.SESSION_REPLACED, "the device connected to another broker"));
                return CompletableFuture.completedFuture(null);
            }
            metrics.recovery("route-restored");
            return queued(session, now).thenAccept(pending -> {
                if (!pending.isEmpty()) {
                    session.channel().eventLoop().execute(() -> deliver(session, new Pending(pending, Set.of())));
                }
            });
        });
    }

    /**
     * The app broadcasts the device has not seen: after its sequence, or (an SDK that kept none)
     * those broadcast after its previous connect; a device never seen before gets no history.
     * Never fails: a store error is counted and means no catch-up this time.
     */
    private CompletableFuture<List<BroadcastEntry>> missedBroadcasts(Session session, long lastSeq, long now) {
        if (catchupLimit == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        String app = session.appId();
        DiskKv disk = aside.diskKv();
        if (disk != null && lastSeq > 0 && aside.redisOutage().getAsBoolean()) {
            // Redis is silent: the disk KV's copy of the broadcast log (logic nodes log outage broadcasts there too).
            return fromDiskKv(session, disk, lastSeq, now);
        }
        CompletableFuture<List<BroadcastEntry>> read = lastSeq > 0
                ? broadcasts.since(app, lastSeq, now, catchupLimit)
                : broadcasts.previousConnect(app, session.regId()).thenCompose(prev -> prev == null
                        ? CompletableFuture.completedFuture(List.<BroadcastEntry>of())
                        : broadcasts.appendedAfter(app, prev, now, catchupLimit));
        return read.handle((list, err) -> {
            if (err != null) {
                metrics.storeFailure("broadcast-read");
                if (disk != null && lastSeq > 0) {
                    return fromDiskKv(session, disk, lastSeq, now);
                }
                log.warn("[broker {} app={} reg={}] broadcast catch-up read failed: {}", brokerId, app,
                        session.regId(), err.toString());
                return CompletableFuture.completedFuture(List.<BroadcastEntry>of());
            }
            return CompletableFuture.completedFuture(list);
        }).thenCompose(f -> f);
    }

    /** Catch-up from the disk KV's broadcast log (a device that kept no sequence gets none: its last connect is in Redis). */
    private CompletableFuture<List<BroadcastEntry>> fromDiskKv(Session session, DiskKv disk, long lastSeq, long now) {
        return disk.broadcastsSince(session.appId(), lastSeq, now, catchupLimit).handle((list, err) -> {
            if (err != null) {
                metrics.storeFailure("broadcast-read-disk-kv");
                log.warn("[broker {} app={} reg={}] broadcast catch-up read failed in Redis and the disk KV: {}",
                        brokerId, session.appId(), session.regId(), err.toString());
                return List.of();
            }
            if (!list.isEmpty()) {
                metrics.recovery("catchup-from-disk-kv");
            }
            return list;
        });
    }

    /** Writes missed broadcasts oldest first; each written copy counts as targeted and sent on its task. */
    private void deliverBroadcasts(Session session, List<BroadcastEntry> missed) {
        Channel ch = session.channel();
        int n = 0;
        for (BroadcastEntry e : missed) {
            if (!session.usable()) {
                break; // the next connection asks again with the same sequence
            }
            if (e.kind() == null) {
                continue;
            }
            n++;
            ch.write(e.toPush()).addListener(f -> {
                if (f.isSuccess()) {
                    metrics.pushWritten(BrokerMetrics.PushSource.CATCHUP);
                    DiskKv disk = aside.diskKv();
                    CompletableFuture<Void> counted = disk != null && aside.redisOutage().getAsBoolean()
                            // Recorded aside: the logic nodes reconcile it into the task's counters.
                            ? disk.recordOutagePush(e.taskId(), CATCHUP_COUNTS_ASIDE, List.of(), List.of(), null)
                            : tasks.increment(e.taskId(), CATCHUP_COUNTS);
                    counted.whenComplete((x, err) -> {
                        if (err != null) {
                            metrics.storeFailure("task-counters");
                        }
                    });
                }
            });
        }
        if (n > 0) {
            ch.flush();
            log.debug("[broker {} app={} reg={}] delivered {} missed broadcasts", brokerId, session.appId(),
                    session.regId(), n);
        }
    }

    /** Writes the queued messages oldest first and marks each SENT once it is on the socket. */
    private void deliver(Session session, Pending all) {
        List<PendingMessage> pending = all.pending();
        if (pending.isEmpty()) {
            return;
        }
        Channel ch = session.channel();
        for (PendingMessage m : pending) {
            if (!session.usable()) {
                break; // what is left stays queued for the next connection
            }
            if (m.kind() == null) {
                log.warn("[broker {} app={} reg={}] queued message {} has an unknown kind, skipped", brokerId,
                        session.appId(), session.regId(), m.msgId());
                continue;
            }
            Frame.Push push = new Frame.Push(m.msgId(), m.expiresAtMillis(), m.kind(),
                    m.payload() == null ? new byte[0] : m.payload().getBytes(StandardCharsets.UTF_8));
            if (all.fromDiskKv().contains(m.msgId())) {
                if (session.writtenFromDiskKv(m.msgId())) {
                    continue; // a follow-up read found it again before the device acked it
                }
                // Not in Redis: its status is the logic node's to reconcile; its ACK removes it from the disk KV.
                session.wroteFromDiskKv(m.msgId());
                ch.write(push).addListener(f -> {
                    if (f.isSuccess()) {
                        metrics.pushWritten(BrokerMetrics.PushSource.OFFLINE);
                    }
                });
                continue;
            }
            ch.write(push).addListener(f -> {
                if (f.isSuccess()) {
                    metrics.pushWritten(BrokerMetrics.PushSource.OFFLINE);
                    messages.advance(session.appId(), session.regId(), m.msgId(), MessageStatus.SENT, clock.getAsLong())
                            .whenComplete((changed, err) -> {
                                if (err != null) {
                                    metrics.storeFailure("status-sent");
                                    log.debug("[broker {} reg={}] marking {} sent failed: {}", brokerId,
                                            session.regId(), m.msgId(), err.toString());
                                }
                            });
                }
            });
        }
        ch.flush();
        log.debug("[broker {} app={} reg={}] delivered {} queued messages", brokerId, session.appId(),
                session.regId(), pending.size());
    }

    @Override
    public void closed(Session session) {
        aside.routeCopies().accept(RouteChange.disconnected(session.appId(), session.regId(), session.route(),
                clock.getAsLong()));
        if (aside.redisOutage().getAsBoolean()) {
            // A stale route left in Redis is harmless (this broker answers NOT_CONNECTED), and the delete would fail.
            metrics.recovery("route-delete-skipped-outage");
            return;
        }
        deletesInFlight.incrementAndGet();
        routes.deleteIfCurrent(session.appId(), session.regId(), session.route())
                .whenComplete((deleted, err) -> {
                    deletesInFlight.decrementAndGet();
                    if (err != null) {
                        // A stale route is harmless: it points at this broker, which answers NOT_CONNECTED.
                        metrics.storeFailure("route-delete");
                        log.debug("[broker {} app={} reg={}] route delete failed: {}", brokerId, session.appId(),
                                session.regId(), err.toString());
                    }
                });
    }

    /** Waits (bounded) for route deletes in flight; for shutdown, before Redis closes. */
    public void awaitDeletes(Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (deletesInFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
