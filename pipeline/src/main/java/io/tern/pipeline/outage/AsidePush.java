package io.tern.pipeline.outage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.pipeline.single.PushOutcomeView;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PushOutcome;
import io.tern.store.diskkv.AsideMessage;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.registry.BrokerDirectory;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.route.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;

/**
 * A single push during a Redis outage, written nowhere in Redis: recorded aside in the disk KV (the durable point,
 * before any PUSH), then carried in the PUSH to the broker of the device's route (from the disk KV's copy of
 * {@code tern.routes}), or queued in the device's disk-KV queue when it has no route or the broker did not take it.
 * The aside record follows the outcome ({@code sent} / {@code offline}); {@link AsideReconciler} moves it into Redis
 * once Redis is back. A disk KV that is missing or fails refuses the push (503 {@code disk_kv_unavailable}):
 * nothing is answered 200 that is not on disk.
 */
public final class AsidePush {
    private static final Logger log = LoggerFactory.getLogger(AsidePush.class);

    private final DiskKv diskKv;
    private final BrokerDirectory brokers;
    private final BrokerLinks links;
    private final LongSupplier clock;
    private final long retryAfterSeconds;
    private final int queueMax;
    private final Counter sent;
    private final Counter queued;

    /**
     * @param diskKv            null when none is configured (every push is refused)
     * @param retryAfterSeconds what a refusal tells the caller to wait
     * @param queueMax          a device's disk-KV queue bound (as its Redis queue's): beyond it the oldest leave
     */
    public AsidePush(DiskKv diskKv, BrokerDirectory brokers, BrokerLinks links, LongSupplier clock,
                     long retryAfterSeconds, int queueMax, MeterRegistry registry) {
        this.queueMax = queueMax;
        this.diskKv = diskKv;
        this.brokers = brokers;
        this.links = links;
        this.clock = clock;
        this.retryAfterSeconds = retryAfterSeconds;
        this.sent = Counter.builder("tern.push.single.aside").tag("outcome", "sent").register(registry);
        this.queued = Counter.builder("tern.push.single.aside").tag("outcome", "offline").register(registry);
    }

    public CompletableFuture<PushOutcomeView> push(NewMessage m) {
        if (m.requestId() != null) {
            throw new PushException(PushError.REDIS_OUTAGE, "requestId cannot be checked for a repeat while Redis "
                    + "is away (outage mode); retry later, or send without requestId", "requestId", retryAfterSeconds);
        }
        if (diskKv == null || !diskKv.isOpen()) {
            throw unavailable(null);
        }
        AsideMessage record = new AsideMessage(m, MessageStatus.ACCEPTED);
        long now = clock.getAsLong();
        return diskKv.putAside(record, now)
                .thenCompose(x -> diskKv.route(m.appId(), m.regId()))
                .thenCompose(route -> route == null ? enqueue(record) : send(record, route))
                .exceptionally(e -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (cause instanceof PushException p) {
                        throw p;
                    }
                    throw unavailable(cause);
                });
    }

    private CompletableFuture<PushOutcomeView> send(AsideMessage record, Route route) {
        NewMessage m = record.message();
        BrokerInfo broker = brokers.get(route.brokerId());
        if (broker == null) {
            return enqueue(record); // a broker the last snapshot did not know: the device gets it on reconnect
        }
        Frame.Push push = new Frame.Push(m.msgId(), m.expiresAtMillis(), m.kind(),
                m.payload().getBytes(StandardCharsets.UTF_8));
        return links.send(broker, m.appId(), m.regId(), push).handle((outcome, err) -> {
            if (err == null && outcome == PushOutcome.WRITTEN) {
                sent.increment();
                return diskKv.putAside(record.withStatus(MessageStatus.SENT), clock.getAsLong())
                        .thenApply(x -> new PushOutcomeView(m.msgId(), MessageStatus.SENT));
            }
            log.debug("[aside push msg={}] broker {} did not take it ({}): queued in the disk KV", m.msgId(),
                    broker.id(), err == null ? outcome : err.toString());
            return enqueue(record);
        }).thenCompose(f -> f);
    }

    private CompletableFuture<PushOutcomeView> enqueue(AsideMessage record) {
        NewMessage m = record.message();
        AsideMessage offline = record.withStatus(MessageStatus.OFFLINE);
        return diskKv.enqueue(m.appId(), m.regId(), m.msgId(), offline.toJson(), m.createdAtMillis(),
                        m.expiresAtMillis())
                .thenCompose(n -> n <= queueMax ? CompletableFuture.completedFuture(null) : trim(m, n - queueMax))
                .thenCompose(x -> diskKv.putAside(offline, clock.getAsLong()))
                .thenApply(x -> {
                    queued.increment();
                    return new PushOutcomeView(m.msgId(), MessageStatus.OFFLINE);
                });
    }

    /**
     * Drops the device's oldest queued messages beyond the bound; their aside records stay, so reconciliation still
     * records them (Redis' queue bound then evicts the oldest the same way: status expired).
     */
    private CompletableFuture<Void> trim(NewMessage m, long excess) {
        return diskKv.queued(m.appId(), m.regId(), (int) Math.min(excess, queueMax))
                .thenCompose(oldest -> diskKv.dequeue(m.appId(), m.regId(),
                        oldest.stream().map(DiskKv.Queued::msgId).toList()));
    }

    private PushException unavailable(Throwable cause) {
        return new PushException(PushError.DISK_KV_UNAVAILABLE, "Redis is away (outage mode) and the disk KV "
                + (diskKv == null ? "is not configured (logic.disk-kv-uri)" : "did not take the push: " + cause)
                + "; nothing was accepted, retry later", null, retryAfterSeconds);
    }
}
