package io.tern.store.message;

import io.lettuce.core.ScriptOutputType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Single-push messages, their status, and the per-device queue of unacknowledged messages. */
public final class MessageRepository {
    private static final LuaScript ACCEPT = LuaScript.load("message-accept");
    private static final LuaScript QUEUE = LuaScript.load("message-queue");
    private static final LuaScript ADVANCE = LuaScript.load("message-advance");
    private static final LuaScript PENDING = LuaScript.load("queue-pending");

    private final RedisStore redis;
    private final QueuePolicy policy;
    private final DeliveryChecks checks;

    /** A repository whose accepted messages are not put up for delivery checks (readers, tools, tests). */
    public MessageRepository(RedisStore redis, QueuePolicy policy) {
        this(redis, policy, DeliveryChecks.OFF);
    }

    public MessageRepository(RedisStore redis, QueuePolicy policy, DeliveryChecks checks) {
        this.redis = redis;
        this.policy = policy;
        this.checks = checks;
    }

    /**
     * Records the message and queues it for its device in one atomic step, or returns the earlier
     * message for a repeated requestId. Also returns the device's current route, or
     * {@link AcceptResult#UNKNOWN_DEVICE} (nothing recorded) when the device never connected. A message
     * to a device without a route is recorded {@link MessageStatus#OFFLINE} right away; one to a routed
     * device is also put up for a delivery check ({@link DeliveryChecks}, {@link RedeliveryQueue}) that
     * marking it SENT takes back. A message {@link #recordQueued queued} under the same msgId is promoted
     * ({@code created} true, once); any other message already under it makes this a repeat ({@code created} false).
     */
    public CompletableFuture<AcceptResult> accept(NewMessage m) {
        return accept(m, m.createdAtMillis());
    }

    /**
     * As {@link #accept(NewMessage)}, for a push sent at {@code sendingAtMillis} rather than when it was created (one
     * drained from the burst buffer): its delivery check is due a delay after the PUSH, not after its creation, else
     * the sweeper would resend it while the drain's PUSH is on its way.
     */
    public CompletableFuture<AcceptResult> accept(NewMessage m, long sendingAtMillis) {
        String requestId = m.requestId() == null ? "" : m.requestId();
        String[] keys = {
                Keys.idempotency(m.appId(), requestId), Keys.message(m.msgId()),
                Keys.queue(m.appId(), m.regId()), Keys.route(m.appId(), m.regId()), Keys.device(m.appId(), m.regId()),
                Keys.redeliveryDue()};
        String checkAt = checks.enabled() ? Long.toString(sendingAtMillis + checks.delay().toMillis()) : "0";
        return ACCEPT.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, keys,
                Long.toString(m.msgId()), m.appId(), m.regId(), Integer.toString(m.kind().code()), m.payload(),
                Long.toString(m.createdAtMillis()), Long.toString(m.expiresAtMillis()),
                Long.toString(policy.retention().toMillis()), Integer.toString(policy.queueMax()),
                Long.toString(policy.queueTtl().toMillis()), Long.toString(policy.idempotencyWindow().toMillis()),
                requestId, m.callbackUrl() == null ? "" : m.callbackUrl(),
                m.callbackParam() == null ? "" : m.callbackParam(), checkAt, Integer.toString(checks.maxDue()))
                .thenApply(r -> ((Long) r.get(0)) < 0 ? AcceptResult.UNKNOWN_DEVICE
                        : new AcceptResult(((Long) r.get(0)) == 1L, Long.parseLong((String) r.get(1)),
                        Route.decode((String) r.get(2))))
                // On a cluster an accept is acknowledged once a replica has it too: a failover cannot lose it.
                .thenCompose(result -> redis.replicated(keys).thenApply(x -> result));
    }

    /**
     * Records a message accepted beyond the permit as {@link MessageStatus#QUEUED}: it waits in the burst buffer,
     * not in the device queue, until the drain's {@link #accept} (same msgId) promotes it. Idempotent on the
     * requestId like {@link #accept}; a message already recorded under the msgId (the drain was first) is left as
     * it is ({@code created} false). {@link AcceptResult#UNKNOWN_DEVICE} when the device never connected; the
     * route is never read (null).
     */
    public CompletableFuture<AcceptResult> recordQueued(NewMessage m) {
        String requestId = m.requestId() == null ? "" : m.requestId();
        String[] keys = {Keys.idempotency(m.appId(), requestId), Keys.message(m.msgId()), Keys.device(m.appId(), m.regId())};
        return QUEUE.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, keys,
                        Long.toString(m.msgId()), m.appId(), m.regId(), Integer.toString(m.kind().code()), m.payload(),
                        Long.toString(m.createdAtMillis()), Long.toString(m.expiresAtMillis()),
                        Long.toString(policy.retention().toMillis()), Long.toString(policy.idempotencyWindow().toMillis()),
                        requestId, m.callbackUrl() == null ? "" : m.callbackUrl(),
                        m.callbackParam() == null ? "" : m.callbackParam())
                .thenApply(r -> ((Long) r.get(0)) < 0 ? AcceptResult.UNKNOWN_DEVICE
                        : new AcceptResult(((Long) r.get(0)) == 1L, Long.parseLong((String) r.get(1)), null));
    }

    /**
     * Moves the status forward (to SENT or OFFLINE); a lower or equal rank is ignored. True when
     * it changed. Delivery is recorded by {@link io.tern.store.receipt.AckRepository}.
     */
    public CompletableFuture<Boolean> advance(long msgId, MessageStatus status, long nowMillis) {
        return advanceAll(List.of(new StatusMark(msgId, status)), nowMillis).thenApply(n -> n == 1);
    }

    /** {@link #advance} for several messages in one round trip. @return how many changed */
    public CompletableFuture<Integer> advanceAll(List<StatusMark> marks, long nowMillis) {
        String[] keys = new String[marks.size() + 1];
        String[] args = new String[marks.size() + 1];
        keys[0] = Keys.redeliveryDue();
        args[0] = Long.toString(nowMillis);
        for (int i = 0; i < marks.size(); i++) {
            StatusMark m = marks.get(i);
            if (m.status() == MessageStatus.DELIVERED) {
                throw new IllegalArgumentException("delivery is recorded from acks, with AckRepository");
            }
            keys[i + 1] = Keys.message(m.msgId());
            args[i + 1] = m.status().wireName();
        }
        return ADVANCE.<Long>run(redis.async(), ScriptOutputType.INTEGER, keys, args).thenApply(Long::intValue);
    }

    /** @return the message, or null when unknown or past its retention */
    public CompletableFuture<StoredMessage> find(long msgId) {
        return redis.async().hgetall(Keys.message(msgId)).toCompletableFuture()
                .thenApply(h -> h.isEmpty() ? null : toMessage(msgId, h));
    }

    /** Up to {@code limit} queued messages of the device still worth delivering, oldest first. */
    public CompletableFuture<List<PendingMessage>> pending(String appId, String regId, long nowMillis, int limit) {
        return PENDING.<List<Object>>run(redis.async(), ScriptOutputType.MULTI,
                new String[]{Keys.queue(appId, regId)}, Long.toString(nowMillis), Integer.toString(limit))
                .thenApply(flat -> {
                    List<PendingMessage> out = new ArrayList<>(flat.size() / 4);
                    for (int i = 0; i + 3 < flat.size(); i += 4) {
                        out.add(new PendingMessage(Long.parseLong((String) flat.get(i)),
                                PayloadKind.fromCode(Integer.parseInt((String) flat.get(i + 1))),
                                (String) flat.get(i + 2), Long.parseLong((String) flat.get(i + 3))));
                    }
                    return out;
                });
    }

    private static StoredMessage toMessage(long msgId, Map<String, String> h) {
        return new StoredMessage(msgId, h.get("app"), h.get("reg"),
                PayloadKind.fromCode(Integer.parseInt(h.getOrDefault("kind", "1"))), h.get("payload"),
                parse(h.get("created")), parse(h.get("expires")), MessageStatus.fromWire(h.get("status")),
                parse(h.get("sentAt")), parse(h.get("deliveredAt")), emptyToNull(h.get("req")));
    }

    private static long parse(String v) {
        return v == null ? 0L : Long.parseLong(v);
    }

    private static String emptyToNull(String v) {
        return v == null || v.isEmpty() ? null : v;
    }
}
