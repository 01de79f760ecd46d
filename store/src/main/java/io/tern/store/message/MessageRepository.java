package io.tern.store.message;

import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import io.tern.store.route.Route;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Single-push messages, their status, and the per-device queue of unacknowledged messages. */
public final class MessageRepository {
    private static final LuaScript QUEUE = LuaScript.load("message-queue");
    private static final LuaScript ADVANCE = LuaScript.load("message-advance");
    private static final LuaScript PENDING = LuaScript.load("queue-pending");
    private static final LuaScript REDELIVERY_ADD = LuaScript.load("redelivery-add");

    private final RedisStore redis;
    private final QueuePolicy policy;
    private final DeliveryChecks checks;
    private final LuaScript accept;

    /** A repository whose accepted messages are not put up for delivery checks (readers, tools, tests). */
    public MessageRepository(RedisStore redis, QueuePolicy policy) {
        this(redis, policy, DeliveryChecks.OFF);
    }

    public MessageRepository(RedisStore redis, QueuePolicy policy, DeliveryChecks checks) {
        this.redis = redis;
        this.policy = policy;
        this.checks = checks;
        this.accept = LuaScript.load("message-accept", Map.of(
                "RETENTION_MS", policy.retention().toMillis(),
                "QUEUE_MAX", (long) policy.queueMax(),
                "QUEUE_TTL_MS", policy.queueTtl().toMillis(),
                "IDEMPOTENCY_TTL_MS", policy.idempotencyWindow().toMillis(),
                "MAX_DUE_PER_SHARD", (long) maxDuePerShard(),
                "REF_SEP", (long) Keys.REF_SEP));
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
        String app = m.appId();
        String reg = m.regId();
        String id = Long.toString(m.msgId());
        var async = redis.async();
        String[] deviceKeys = {Keys.messageIdempotency(app, reg, requestId), Keys.message(app, reg, m.msgId()),
                Keys.queue(app, reg), Keys.route(app, reg), Keys.device(app, reg)};
        String kind = Integer.toString(m.kind().code());
        String created = Long.toString(m.createdAtMillis());
        String expires = Long.toString(m.expiresAtMillis());
        String url = m.callbackUrl() == null ? "" : m.callbackUrl();
        String param = m.callbackParam() == null ? "" : m.callbackParam();
        if (!redis.isCluster()) {
            // One command: the script also writes the msgId pointer and the delivery check, so nothing is taken back.
            String[] keys = Arrays.copyOf(deviceKeys, checks.enabled() ? 7 : 6);
            keys[5] = Keys.messageRef(m.msgId());
            String[] args;
            if (checks.enabled()) {
                keys[6] = Keys.redeliveryDue(Keys.redeliveryShard(m.msgId()));
                args = new String[]{id, app, reg, kind, m.payload(), created, expires, requestId, url, param,
                        Long.toString(sendingAtMillis + checks.delay().toMillis())};
            } else {
                args = new String[]{id, app, reg, kind, m.payload(), created, expires, requestId, url, param};
            }
            return accept.<List<Object>>run(async, ScriptOutputType.MULTI, keys, args)
                    .thenCompose(r -> accepted(app, reg, r));
        }
        // A cluster keeps the pointer and the check in other slots: three commands, one flush (one round trip).
        var ref = writeRef(m);
        CompletableFuture<Long> check = CompletableFuture.completedFuture(0L);
        if (checks.enabled()) {
            int shard = Keys.redeliveryShard(m.msgId());
            check = REDELIVERY_ADD.run(async, ScriptOutputType.INTEGER, new String[]{Keys.redeliveryDue(shard)}, id,
                    Long.toString(sendingAtMillis + checks.delay().toMillis()), Integer.toString(maxDuePerShard()));
        }
        var accepted = accept.<List<Object>>run(async, ScriptOutputType.MULTI, deviceKeys,
                id, app, reg, kind, m.payload(), created, expires, requestId, url, param);
        CompletableFuture<Long> added = check;
        return accepted.thenCombine(ref, (r, x) -> r).thenCompose(r -> added.thenCompose(checkAdded -> {
            boolean createdRouted = (Long) r.get(0) == 1L && r.get(2) != null;
            if (checkAdded == 1L && !createdRouted) {
                // Only a new message to a routed device is checked. Issued before answering: a later command on
                // this connection sees it done; its reply is not waited for.
                dropCheck(m.msgId());
            }
            return accepted(app, reg, r);
        })).thenCompose(result -> result == AcceptResult.UNKNOWN_DEVICE ? CompletableFuture.completedFuture(result)
                // On a cluster an accept is acknowledged once a replica has the message and its msgId pointer too
                // (a repeat waits as well: the first attempt's writes may not have reached it).
                : redis.replicated(Keys.message(app, reg, m.msgId()), Keys.messageRef(m.msgId())).thenApply(x -> result));
    }

    /** The accept script's answer; the queue entries beyond the bound it named are evicted first. */
    private CompletableFuture<AcceptResult> accepted(String app, String reg, List<Object> r) {
        long created = (Long) r.get(0);
        AcceptResult result = created < 0 ? AcceptResult.UNKNOWN_DEVICE
                : new AcceptResult(created == 1L, Long.parseLong((String) r.get(1)), Route.decode((String) r.get(2)));
        if (r.size() <= 3) {
            return CompletableFuture.completedFuture(result);
        }
        List<String> over = new ArrayList<>(r.size() - 3);
        for (int i = 3; i < r.size(); i++) {
            over.add((String) r.get(i));
        }
        return DeviceQueues.evict(redis, app, reg, over).thenApply(x -> result);
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
        String[] keys = {Keys.messageIdempotency(m.appId(), m.regId(), requestId),
                Keys.message(m.appId(), m.regId(), m.msgId()), Keys.device(m.appId(), m.regId())};
        var ref = writeRef(m);
        return QUEUE.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, keys,
                        Long.toString(m.msgId()), m.appId(), m.regId(), Integer.toString(m.kind().code()), m.payload(),
                        Long.toString(m.createdAtMillis()), Long.toString(m.expiresAtMillis()),
                        Long.toString(policy.retention().toMillis()), Long.toString(policy.idempotencyWindow().toMillis()),
                        requestId, m.callbackUrl() == null ? "" : m.callbackUrl(),
                        m.callbackParam() == null ? "" : m.callbackParam())
                .thenCombine(ref, (r, x) -> ((Long) r.get(0)) < 0 ? AcceptResult.UNKNOWN_DEVICE
                        : new AcceptResult(((Long) r.get(0)) == 1L, Long.parseLong((String) r.get(1)), null));
    }

    /**
     * The msgId pointer (where the message lives, for reads by msgId alone), written with the message and
     * expiring with it. A pointer to a message that was never recorded (a repeat, an unknown device) finds nothing.
     */
    private CompletableFuture<String> writeRef(NewMessage m) {
        return redis.async().set(Keys.messageRef(m.msgId()), m.appId() + Keys.REF_SEP + m.regId(),
                SetArgs.Builder.pxAt(m.expiresAtMillis() + policy.retention().toMillis())).toCompletableFuture();
    }

    private int maxDuePerShard() {
        return Math.max(1, (checks.maxDue() + Keys.REDELIVERY_SHARDS - 1) / Keys.REDELIVERY_SHARDS);
    }

    private void dropCheck(long msgId) {
        int shard = Keys.redeliveryShard(msgId);
        redis.async().zrem(Keys.redeliveryDue(shard), Long.toString(msgId));
    }

    /**
     * Moves the status forward (to SENT, OFFLINE or EXPIRED); a lower or equal rank is ignored. True when
     * it changed. Delivery is recorded by {@link io.tern.store.receipt.AckRepository}.
     */
    public CompletableFuture<Boolean> advance(String appId, String regId, long msgId, MessageStatus status,
                                              long nowMillis) {
        return advanceAll(List.of(new StatusMark(appId, regId, msgId, status)), nowMillis).thenApply(n -> n == 1);
    }

    /**
     * {@link #advance} for several messages in one flush: one script (per device on a cluster), and for each message marked
     * SENT or EXPIRED its delivery check taken out (its shard's slot). @return how many changed
     */
    public CompletableFuture<Integer> advanceAll(List<StatusMark> marks, long nowMillis) {
        Map<String, List<StatusMark>> byDevice = new LinkedHashMap<>();
        Map<Integer, List<String>> checked = new HashMap<>();
        for (StatusMark m : marks) {
            if (m.status() == MessageStatus.DELIVERED) {
                throw new IllegalArgumentException("delivery is recorded from acks, with AckRepository");
            }
            byDevice.computeIfAbsent(Keys.queue(m.appId(), m.regId()), k -> new ArrayList<>()).add(m);
            if (m.status() == MessageStatus.SENT || m.status() == MessageStatus.EXPIRED) {
                checked.computeIfAbsent(Keys.redeliveryShard(m.msgId()), k -> new ArrayList<>())
                        .add(Long.toString(m.msgId()));
            }
        }
        var async = redis.async();
        List<CompletableFuture<?>> done = new ArrayList<>();
        checked.forEach((shard, ids) -> {
            String[] members = ids.toArray(String[]::new);
            done.add(async.zrem(Keys.redeliveryDue(shard), members).toCompletableFuture());
            done.add(async.hdel(Keys.redeliveryTries(shard), members).toCompletableFuture());
        });
        List<CompletableFuture<Long>> changed = new ArrayList<>();
        for (List<List<StatusMark>> call : redis.scriptCalls(byDevice.values())) {
            List<String> keys = new ArrayList<>();
            List<String> args = new ArrayList<>();
            args.add(Long.toString(nowMillis));
            for (List<StatusMark> device : call) {
                for (StatusMark m : device) {
                    keys.add(Keys.message(m.appId(), m.regId(), m.msgId()));
                    args.add(m.status().wireName());
                }
            }
            changed.add(ADVANCE.run(async, ScriptOutputType.INTEGER, keys.toArray(String[]::new),
                    args.toArray(String[]::new)));
        }
        done.addAll(changed);
        return CompletableFuture.allOf(done.toArray(CompletableFuture[]::new))
                .thenApply(x -> changed.stream().mapToInt(c -> c.join().intValue()).sum());
    }

    /** @return the message, or null when unknown or past its retention (two reads: its pointer, then it) */
    public CompletableFuture<StoredMessage> find(long msgId) {
        var async = redis.async();
        return async.get(Keys.messageRef(msgId)).toCompletableFuture().thenCompose(ref -> {
            int sep = ref == null ? -1 : ref.indexOf(Keys.REF_SEP);
            if (sep < 0) {
                return CompletableFuture.completedFuture(null);
            }
            return find(ref.substring(0, sep), ref.substring(sep + 1), msgId);
        });
    }

    /** @return the device's message, or null when unknown or past its retention */
    public CompletableFuture<StoredMessage> find(String appId, String regId, long msgId) {
        return redis.async().hgetall(Keys.message(appId, regId, msgId)).toCompletableFuture()
                .thenApply(h -> h.isEmpty() ? null : toMessage(msgId, h));
    }

    /**
     * Up to {@code limit} queued messages and task copies of the device still worth delivering, oldest first.
     * Two round trips: the queue's ids, then (one flush) its messages (the device's slot, which also drops the
     * dead ones) and the tasks of the other ids. Dead task copies are then dropped and those past their TTL
     * counted expired.
     */
    public CompletableFuture<List<PendingMessage>> pending(String appId, String regId, long nowMillis, int limit) {
        var async = redis.async();
        String queue = Keys.queue(appId, regId);
        return async.zrange(queue, 0, limit - 1).toCompletableFuture().thenCompose(ids -> {
            if (ids.isEmpty()) {
                return CompletableFuture.completedFuture(List.<PendingMessage>of());
            }
            String[] keys = new String[ids.size() + 1];
            String[] args = new String[ids.size() + 1];
            keys[0] = queue;
            args[0] = Long.toString(nowMillis);
            List<CompletableFuture<List<KeyValue<String, String>>>> tasks = new ArrayList<>(ids.size());
            for (int i = 0; i < ids.size(); i++) {
                long id = Long.parseLong(ids.get(i));
                keys[i + 1] = Keys.message(appId, regId, id);
                args[i + 1] = ids.get(i);
                tasks.add(async.hmget(Keys.task(id), "kind", "payload", "expires", "state").toCompletableFuture());
            }
            var messages = PENDING.<List<Object>>run(async, ScriptOutputType.MULTI, keys, args);
            return CompletableFuture.allOf(tasks.toArray(CompletableFuture[]::new)).thenCombine(messages, (x, flat) -> {
                List<PendingMessage> out = new ArrayList<>(ids.size());
                List<String> deadTasks = new ArrayList<>();
                List<Long> expiredTasks = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    long id = Long.parseLong(ids.get(i));
                    if (flat.get(3 * i) != null) {
                        out.add(new PendingMessage(id, PayloadKind.fromCode(Integer.parseInt((String) flat.get(3 * i))),
                                (String) flat.get(3 * i + 1), Long.parseLong((String) flat.get(3 * i + 2))));
                    } else if ("t".equals(flat.get(3 * i + 1))) {
                        List<KeyValue<String, String>> t = tasks.get(i).join();
                        if (!t.get(0).hasValue() || "recalled".equals(t.get(3).getValueOrElse(null))) {
                            deadTasks.add(ids.get(i));
                        } else if (Long.parseLong(t.get(2).getValue()) <= nowMillis) {
                            deadTasks.add(ids.get(i));
                            expiredTasks.add(id);
                        } else {
                            out.add(new PendingMessage(id, PayloadKind.fromCode(Integer.parseInt(t.get(0).getValue())),
                                    t.get(1).getValue(), Long.parseLong(t.get(2).getValue())));
                        }
                    }
                }
                return new PendingRead(out, deadTasks, expiredTasks);
            }).thenCompose(r -> r.deadTasks().isEmpty() ? CompletableFuture.completedFuture(r.live())
                    : dropTasks(queue, r.deadTasks(), r.expiredTasks()).thenApply(x -> r.live()));
        });
    }

    private record PendingRead(List<PendingMessage> live, List<String> deadTasks, List<Long> expiredTasks) {
    }

    /**
     * Takes dead task copies off the device queue; a copy past its TTL that this call removed counts as expired
     * in its task (once, even with two connects reading at once; a crash in between leaves the counter short).
     */
    private CompletableFuture<Void> dropTasks(String queue, List<String> dead, List<Long> expired) {
        var async = redis.async();
        List<CompletableFuture<Long>> removed = new ArrayList<>(dead.size());
        for (String id : dead) {
            removed.add(async.zrem(queue, id).toCompletableFuture());
        }
        return CompletableFuture.allOf(removed.toArray(CompletableFuture[]::new)).thenCompose(x -> {
            List<Long> count = new ArrayList<>();
            for (int i = 0; i < dead.size(); i++) {
                long id = Long.parseLong(dead.get(i));
                if (removed.get(i).join() == 1L && expired.contains(id)) {
                    count.add(id);
                }
            }
            return DeviceQueues.countExpired(redis, count);
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
