package io.tern.pipeline.outage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.store.diskkv.AsideMessage;
import io.tern.store.diskkv.DiskKv;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.route.RouteRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Moves the single pushes {@link AsidePush} accepted during an outage into Redis once it answers again, in batches,
 * oldest first: each message is accepted under its msgId (idempotent: a second run, or another node reconciling the
 * same records, finds it there), a {@code sent} one is marked sent, an {@code offline} one leaves the disk-KV queue
 * for the Redis queue (delivered on reconnect, or by the redelivery sweeper to a device that is back). Then its aside
 * record is forgotten. Redis that came back empty no longer knows the devices: one whose route the disk KV holds
 * (it connected) is marked known again and its message recorded; any other cannot be (the outage path could not check
 * the regId): it is counted unrecovered (log, counter {@code tern.storage.unrecovered}, /health fact), its disk-KV
 * queue entry stays for the broker to deliver on reconnect.
 */
public final class AsideReconciler implements StorageMode.Reconciler {
    private static final Logger log = LoggerFactory.getLogger(AsideReconciler.class);

    private final DiskKv diskKv;
    private final MessageRepository messages;
    private final RouteRepository routes;
    private final LongSupplier clock;
    private final int batch;
    private final String prefix;
    private final Counter reconciled;
    private final Counter unrecoveredCount;
    private final AtomicLong unrecovered = new AtomicLong();

    public AsideReconciler(DiskKv diskKv, MessageRepository messages, RouteRepository routes, LongSupplier clock,
                           int batch, MeterRegistry registry, String owner) {
        this.diskKv = diskKv;
        this.messages = messages;
        this.routes = routes;
        this.clock = clock;
        this.batch = batch;
        this.prefix = "[" + owner + " reconcile]";
        this.reconciled = Counter.builder("tern.storage.reconciled")
                .description("single pushes accepted aside in an outage, moved into Redis").register(registry);
        this.unrecoveredCount = Counter.builder("tern.storage.unrecovered")
                .description("aside pushes whose device Redis no longer knew (Redis came back without its data)")
                .register(registry);
    }

    /** Aside pushes that could not be put into Redis since start. */
    public long unrecovered() {
        return unrecovered.get();
    }

    @Override
    public CompletableFuture<Void> reconcile() {
        return diskKv.aside(batch).thenCompose(records -> {
            if (records.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            List<CompletableFuture<Void>> work = new ArrayList<>(records.size());
            List<Long> done = new ArrayList<>(records.size());
            for (DiskKv.Queued r : records) {
                done.add(r.msgId());
                if (r.json() != null) {
                    work.add(one(AsideMessage.fromJson(r.json())));
                }
            }
            return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new))
                    .thenCompose(x -> diskKv.forgetAside(done))
                    .thenCompose(x -> records.size() < batch ? CompletableFuture.completedFuture(null) : reconcile());
        });
    }

    private CompletableFuture<Void> one(AsideMessage a) {
        NewMessage m = a.message();
        long now = clock.getAsLong();
        return messages.accept(m, now).thenCompose(accepted -> {
            if (!accepted.unknownDevice()) {
                return recorded(a, now);
            }
            return diskKv.route(m.appId(), m.regId()).thenCompose(route -> {
                if (route == null) {
                    return unrecovered(a);
                }
                return routes.markKnown(m.appId(), m.regId(), now).thenCompose(x -> messages.accept(m, now))
                        .thenCompose(again -> again.unknownDevice() ? unrecovered(a) : recorded(a, now));
            });
        });
    }

    private CompletableFuture<Void> recorded(AsideMessage a, long now) {
        NewMessage m = a.message();
        reconciled.increment();
        CompletableFuture<?> after = switch (a.status()) {
            case SENT -> messages.advance(m.appId(), m.regId(), m.msgId(), MessageStatus.SENT, now);
            case OFFLINE -> diskKv.dequeue(m.appId(), m.regId(), List.of(m.msgId()));
            default -> CompletableFuture.completedFuture(null); // its PUSH's fate unknown: queued, checked, resent
        };
        return after.thenAccept(x -> { });
    }

    private CompletableFuture<Void> unrecovered(AsideMessage a) {
        NewMessage m = a.message();
        unrecovered.incrementAndGet();
        unrecoveredCount.increment();
        log.warn("{} msg {} ({} {}) not recorded in Redis: Redis no longer knows the device (it came back without "
                + "its data) and nothing else proves it; status {} stays unknown to GET /v1/messages, the disk-KV "
                + "queue keeps it for the device's reconnect", prefix, m.msgId(), m.appId(), m.regId(),
                a.status().wireName());
        return CompletableFuture.completedFuture(null);
    }
}
