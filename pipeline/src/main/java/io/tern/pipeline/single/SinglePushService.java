package io.tern.pipeline.single;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.pipeline.id.MsgIdGenerator;
import io.tern.pipeline.redelivery.Redeliverer;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PushOutcome;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.store.message.AcceptResult;
import io.tern.store.message.MessageRepository;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import io.tern.store.message.StatusMarks;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.registry.BrokerDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The single-push pipeline: msgId → record and queue the message atomically (the durable
 * point; idempotent on requestId) → route → PUSH through the device's broker, or leave it
 * queued for reconnect. The message stays queued until the device's ACK comes back through
 * the receipt pipeline, so a lost connection or a crashed node never loses it. The accept itself
 * records a device without a route as offline; the broker's answer is recorded through
 * {@link StatusMarks}, batched with other pushes' marks. A PUSH that did not get written (broker
 * missing from the registry snapshot, link down, timeout, not writable) is recorded offline and handed
 * to the {@link Redeliverer}, which retries it to the device's current route within moments; the
 * accept also put it up for a later check, so a node that dies before the PUSH strands nothing either.
 */
public final class SinglePushService {
    private static final Logger log = LoggerFactory.getLogger(SinglePushService.class);

    private final MessageRepository messages;
    private final StatusMarks marks;
    private final BrokerDirectory brokers;
    private final BrokerLinks links;
    private final MsgIdGenerator ids;
    private final Redeliverer redelivery;
    private final LongSupplier clock;
    private final Counter sent;
    private final Counter offline;
    private final Counter duplicates;

    public SinglePushService(MessageRepository messages, StatusMarks marks, BrokerDirectory brokers, BrokerLinks links,
                             MsgIdGenerator ids, Redeliverer redelivery, LongSupplier clock, MeterRegistry registry) {
        this.messages = messages;
        this.marks = marks;
        this.brokers = brokers;
        this.links = links;
        this.ids = ids;
        this.redelivery = redelivery;
        this.clock = clock;
        this.sent = Counter.builder("tern.push.single").tag("outcome", "sent").register(registry);
        this.offline = Counter.builder("tern.push.single").tag("outcome", "offline").register(registry);
        this.duplicates = Counter.builder("tern.push.single").tag("outcome", "duplicate").register(registry);
    }

    public CompletableFuture<PushOutcomeView> push(String appId, SinglePush req) {
        long now = clock.getAsLong();
        long msgId = ids.next();
        long expiresAt = now + req.ttlMillis();
        NewMessage m = new NewMessage(msgId, appId, req.regId(), req.kind(), req.payloadJson(), now, expiresAt,
                req.requestId(), req.callbackUrl(), req.callbackParam());
        return messages.accept(m).thenCompose(accepted -> {
            if (accepted.unknownDevice()) {
                throw new PushException(PushError.UNKNOWN_DEVICE, "regId " + req.regId() + " is not a known device of app "
                        + appId, "regId");
            }
            if (!accepted.created()) {
                duplicates.increment();
                return messages.find(accepted.msgId()).thenApply(prev -> new PushOutcomeView(accepted.msgId(),
                        prev == null ? MessageStatus.ACCEPTED : prev.effectiveStatus(clock.getAsLong())));
            }
            return deliver(appId, m, accepted);
        });
    }

    private CompletableFuture<PushOutcomeView> deliver(String appId, NewMessage m, AcceptResult accepted) {
        if (accepted.route() == null) {
            offline.increment(); // recorded offline by the accept
            return CompletableFuture.completedFuture(new PushOutcomeView(m.msgId(), MessageStatus.OFFLINE));
        }
        BrokerInfo broker = brokers.get(accepted.route().brokerId());
        if (broker == null) {
            return redeliverLater(m); // the snapshot may lag a broker that just (re)registered
        }
        Frame.Push push = new Frame.Push(m.msgId(), m.expiresAtMillis(), m.kind(),
                m.payload().getBytes(StandardCharsets.UTF_8));
        return links.send(broker, appId, m.regId(), push).handle((outcome, err) -> {
            if (err == null && outcome == PushOutcome.WRITTEN) {
                sent.increment();
                return marks.mark(m.msgId(), MessageStatus.SENT)
                        .thenApply(x -> new PushOutcomeView(m.msgId(), MessageStatus.SENT));
            }
            if (err != null) {
                log.debug("[logic push msg={}] broker {} did not take it: {}", m.msgId(), broker.id(), err.toString());
            }
            return redeliverLater(m);
        }).thenCompose(f -> f);
    }

    /** Queued already: retried to the device's current route, and delivered on reconnect at the latest. */
    private CompletableFuture<PushOutcomeView> redeliverLater(NewMessage m) {
        redelivery.soon(m.msgId());
        return markOffline(m);
    }

    private CompletableFuture<PushOutcomeView> markOffline(NewMessage m) {
        offline.increment();
        return marks.mark(m.msgId(), MessageStatus.OFFLINE)
                .thenApply(x -> new PushOutcomeView(m.msgId(), MessageStatus.OFFLINE));
    }
}
