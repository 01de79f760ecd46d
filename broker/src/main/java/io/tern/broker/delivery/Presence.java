package io.tern.broker.delivery;

import io.netty.channel.Channel;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Session;
import io.tern.broker.session.SessionLifecycle;
import io.tern.protocol.frame.Frame;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.PendingMessage;
import io.tern.store.route.RouteRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Keeps the store's view of this broker's devices: on connect, the route (so pushes find the
 * device), THEN the offline queue (read after the route is written, so a message accepted in
 * between is either pushed online or already queued); on close, the route again, deleted only
 * if it is still this connection's. Everything is Lettuce futures: no event loop ever waits.
 */
public final class Presence implements SessionLifecycle {
    private static final Logger log = LoggerFactory.getLogger(Presence.class);

    private final String brokerId;
    private final RouteRepository routes;
    private final MessageRepository messages;
    private final int pendingLimit;
    private final BrokerMetrics metrics;
    private final LongSupplier clock;
    // Route deletes still in flight: shutdown waits for them before closing Redis.
    private final AtomicInteger deletesInFlight = new AtomicInteger();

    public Presence(String brokerId, RouteRepository routes, MessageRepository messages, int pendingLimit,
                    BrokerMetrics metrics, LongSupplier clock) {
        this.brokerId = brokerId;
        this.routes = routes;
        this.messages = messages;
        this.pendingLimit = pendingLimit;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public void opened(Session session) {
        long now = clock.getAsLong();
        routes.put(session.appId(), session.regId(), session.route(), now)
                .whenComplete((previous, err) -> {
                    if (err != null) {
                        // The device stays connected but unroutable until it reconnects; pushes to it are queued.
                        metrics.storeFailure("route-put");
                        log.warn("[broker {} app={} reg={}] route write failed: {}", brokerId, session.appId(),
                                session.regId(), err.toString());
                    } else if (previous != null && !previous.brokerId().equals(brokerId)) {
                        log.debug("[broker {} app={} reg={}] took over the route from broker {}", brokerId,
                                session.appId(), session.regId(), previous.brokerId());
                    }
                })
                .thenCompose(previous -> pendingLimit == 0 || !session.usable()
                        ? CompletableFuture.completedFuture(List.<PendingMessage>of())
                        : messages.pending(session.appId(), session.regId(), now, pendingLimit)
                        .whenComplete((list, err) -> {
                            if (err != null) {
                                metrics.storeFailure("pending-read");
                                log.warn("[broker {} app={} reg={}] offline queue read failed: {}", brokerId,
                                        session.appId(), session.regId(), err.toString());
                            }
                        }))
                .thenAccept(pending -> {
                    if (!pending.isEmpty()) {
                        // Lettuce completes on its own threads: write the batch from the device's loop.
                        session.channel().eventLoop().execute(() -> deliver(session, pending));
                    }
                });
    }

    /** Writes the queued messages oldest first and marks each SENT once it is on the socket. */
    private void deliver(Session session, List<PendingMessage> pending) {
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
            ch.write(push).addListener(f -> {
                if (f.isSuccess()) {
                    metrics.pushWritten(BrokerMetrics.PushSource.OFFLINE);
                    messages.advance(m.msgId(), MessageStatus.SENT, clock.getAsLong())
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
