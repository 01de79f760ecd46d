package io.tern.pipeline.single;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.pipeline.buffer.BufferedPush;
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
    private final Counter expired;

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
        this.expired = Counter.builder("tern.push.single").tag("outcome", "expired").register(registry);
    }

    public CompletableFuture<PushOutcomeView> push(String appId, SinglePush req) {
        NewMessage m = message(appId, req);
        return messages.accept(m).thenCompose(accepted -> {
            if (accepted.unknownDevice()) {
                throw new PushException(PushError.UNKNOWN_DEVICE, "regId " + req.regId() + " is not a known device of app "
                        + appId, "regId");
            }
            return accepted.created() ? deliver(appId, m, req.payload(), accepted) : duplicate(m, accepted.msgId());
        });
    }

    /** The message a request becomes: a new msgId, its expiry counted from now. */
    public NewMessage message(String appId, SinglePush req) {
        long now = clock.getAsLong();
        return new NewMessage(ids.next(), appId, req.regId(), req.kind(),
                new String(req.payload(), StandardCharsets.UTF_8), now, now + req.ttlMillis(),
                req.requestId(), req.callbackUrl(), req.callbackParam());
    }

    /**
     * Delivers a single push the drain took from the burst buffer, exactly as the direct path does: the accept
     * promotes the message recorded {@code queued} at intake (same msgId) into the device queue, then it is pushed.
     * Idempotent on the msgId: a record drained again finds the message accepted and delivers nothing new. A push
     * past its TTL, or to a device forgotten since intake, is recorded expired and not delivered.
     */
    public CompletableFuture<PushOutcomeView> deliverQueued(BufferedPush p) {
        if (p.kind() != BufferedPush.Kind.SINGLE) {
            throw new IllegalArgumentException("not a single push: " + p.kind());
        }
        NewMessage m = new NewMessage(p.msgId(), p.appId(), p.regId(), p.payloadKind(), p.payload(),
                p.createdAtMillis(), p.expiresAtMillis(), p.requestId(), p.callbackUrl(), p.callbackParam());
        long now = clock.getAsLong();
        if (now >= m.expiresAtMillis()) {
            return expireQueued(m, now, "its TTL passed in the buffer");
        }
        return messages.accept(m, now).thenCompose(accepted -> {
            if (accepted.unknownDevice()) {
                return expireQueued(m, clock.getAsLong(), "its device was forgotten");
            }
            return accepted.created() ? deliver(p.appId(), m, m.payload().getBytes(StandardCharsets.UTF_8), accepted)
                    : duplicate(m, accepted.msgId());
        });
    }

    private CompletableFuture<PushOutcomeView> expireQueued(NewMessage m, long now, String why) {
        log.debug("[push msg={}] not delivered from the buffer: {}", m.msgId(), why);
        expired.increment();
        return messages.advance(m.appId(), m.regId(), m.msgId(), MessageStatus.EXPIRED, now)
                .thenApply(x -> new PushOutcomeView(m.msgId(), MessageStatus.EXPIRED));
    }

    /** A repeat (requestId seen, or a buffer record drained again): the earlier message's status, nothing sent. */
    private CompletableFuture<PushOutcomeView> duplicate(NewMessage m, long msgId) {
        duplicates.increment();
        // The earlier message is this device's: its requestId is scoped to the device.
        return messages.find(m.appId(), m.regId(), msgId).thenApply(prev -> new PushOutcomeView(msgId,
                prev == null ? MessageStatus.ACCEPTED : prev.effectiveStatus(clock.getAsLong())));
    }

    /** {@code payload}: {@code m}'s payload as bytes, as the request brought it (not encoded again per push). */
    private CompletableFuture<PushOutcomeView> deliver(String appId, NewMessage m, byte[] payload,
                                                       AcceptResult accepted) {
        if (accepted.route() == null) {
            offline.increment(); // recorded offline by the accept
            return CompletableFuture.completedFuture(new PushOutcomeView(m.msgId(), MessageStatus.OFFLINE));
        }
        BrokerInfo broker = brokers.get(accepted.route().brokerId());
        if (broker == null) {
            return redeliverLater(m); // the snapshot may lag a broker that just (re)registered
        }
        Frame.Push push = new Frame.Push(m.msgId(), m.expiresAtMillis(), m.kind(), payload);
        return links.send(broker, appId, m.regId(), push).handle((outcome, err) -> {
            if (err == null && outcome == PushOutcome.WRITTEN) {
                sent.increment();
                return marks.mark(m.appId(), m.regId(), m.msgId(), MessageStatus.SENT)
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
        return marks.mark(m.appId(), m.regId(), m.msgId(), MessageStatus.OFFLINE)
                .thenApply(x -> new PushOutcomeView(m.msgId(), MessageStatus.OFFLINE));
    }
}
