package io.tern.store.diskkv;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyValue;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.tern.store.broadcast.BroadcastEntry;
import io.tern.store.route.Route;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskBodyJson;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * The disk KV: what must outlive a Redis outage. Apache Kvrocks in production (Redis protocol, on disk); in dev
 * and tests a second redis-server with {@code appendfsync always} stands in for it. Only the commands in
 * {@link #COMMANDS} are used, all of them Kvrocks-supported (checked by a test against Kvrocks' own list); no Lua,
 * no keyspace notifications.
 * <pre>
 * tern:dk:body:{taskId}        string  TaskBody JSON (as on tern.bodies)     PX until the task expires
 * tern:dk:route:{app}:{reg}    string  "brokerId|epoch" (from tern.routes)   no TTL; deleted on disconnect
 * tern:dk:msg:{msgId}          string  a message accepted during an outage   PX until it expires
 *                                      for an offline device (JSON, the
 *                                      writer's format)
 * tern:dk:queue:{app}:{reg}    zset    msgIds of those, scored by accept ms  bounded by the writer
 * tern:dk:aside:{msgId}        string  every single push a logic node       PX until it expires
 *                                      accepted during an outage
 *                                      ({@link AsideMessage} JSON)
 * tern:dk:aside                zset    msgIds of those, scored by accept ms  emptied by reconciliation
 * tern:dk:bcast:{app}          zset    taskIds of the app's broadcasts,       bounded by length
 *                                      scored by broadcast sequence (a copy
 *                                      of Redis' log, and those of outages)
 * tern:dk:bcast:seq:{app}      string  highest broadcast sequence known       no TTL
 * tern:dk:outage:tasks         set     taskIds pushed during an outage        emptied by reconciling
 * tern:dk:outage:count:{task}  hash    task counter deltas of the outage      deleted by reconciling
 * tern:dk:outage:offline:{task} set    regIds a list push could not reach     deleted by reconciling
 * tern:dk:outage:written:{task} set    regIds a list push wrote to live       deleted by reconciling
 * tern:dk:outage:bcast:{task}  string  appId of a broadcast of the outage     deleted by reconciling
 * </pre>
 */
public final class DiskKv implements AutoCloseable {
    /** Every command this class sends (upper case). */
    public static final Set<String> COMMANDS = Set.of("PING", "GET", "SET", "DEL", "MGET", "ZADD", "ZRANGE",
            "ZREM", "ZCARD", "ZRANGEBYSCORE", "ZREMRANGEBYRANK", "INCR", "HINCRBY", "HGETALL", "SADD", "SMEMBERS",
            "SREM");
    private static final String P = "tern:dk:";

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;

    private DiskKv(RedisClient client) {
        this.client = client;
        this.connection = client.connect();
    }

    /** Connects (fails if the disk KV does not answer); commands time out after {@code commandTimeout}. */
    public static DiskKv connect(String uri, Duration commandTimeout) {
        RedisClient client = RedisClient.create(RedisURI.create(uri));
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .build());
        try {
            return new DiskKv(client);
        } catch (RuntimeException e) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        }
    }

    public static String bodyKey(long taskId) {
        return P + "body:" + taskId;
    }

    public static String routeKey(String appId, String regId) {
        return P + "route:" + appId + ':' + regId;
    }

    public static String messageKey(long msgId) {
        return P + "msg:" + msgId;
    }

    public static String queueKey(String appId, String regId) {
        return P + "queue:" + appId + ':' + regId;
    }

    public static String asideKey(long msgId) {
        return P + "aside:" + msgId;
    }

    /** The index of every aside record (one for all logic nodes: any of them reconciles all, idempotently). */
    public static String asideIndexKey() {
        return P + "aside";
    }

    private RedisAsyncCommands<String, String> cmd() {
        return connection.async();
    }

    public CompletableFuture<Void> ping() {
        return cmd().ping().thenAccept(x -> { }).toCompletableFuture();
    }

    /** Stores a task body until {@code expiresAtMillis} (at least a second from {@code nowMillis}). */
    public CompletableFuture<Void> putBody(long taskId, String bodyJson, long expiresAtMillis, long nowMillis) {
        long ttl = Math.max(1000, expiresAtMillis - nowMillis);
        return cmd().set(bodyKey(taskId), bodyJson, SetArgs.Builder.px(ttl)).thenAccept(x -> { }).toCompletableFuture();
    }

    /** @return the body JSON, or null if none was backed up (or it expired) */
    public CompletableFuture<String> body(long taskId) {
        return cmd().get(bodyKey(taskId)).toCompletableFuture();
    }

    /** Forgets a task body (its task was recalled: an outage must not send it). */
    public CompletableFuture<Void> deleteBody(long taskId) {
        return cmd().del(bodyKey(taskId)).thenAccept(x -> { }).toCompletableFuture();
    }

    public CompletableFuture<Void> putRoute(String appId, String regId, Route route) {
        return cmd().set(routeKey(appId, regId), route.encode()).thenAccept(x -> { }).toCompletableFuture();
    }

    /**
     * Removes the device's route if it is still {@code ended}. Not atomic (no Lua here): callers apply one device's
     * changes in order from one partition, so nothing else writes the key in between.
     */
    public CompletableFuture<Boolean> removeRouteIf(String appId, String regId, Route ended) {
        String key = routeKey(appId, regId);
        return cmd().get(key).toCompletableFuture().thenCompose(cur -> ended.encode().equals(cur)
                ? cmd().del(key).thenApply(n -> n > 0).toCompletableFuture()
                : CompletableFuture.completedFuture(false));
    }

    /** @return the device's route, or null */
    public CompletableFuture<Route> route(String appId, String regId) {
        return cmd().get(routeKey(appId, regId)).thenApply(Route::decode).toCompletableFuture();
    }

    /** The routes of several devices in one round trip, in the order given (null where none). */
    public CompletableFuture<List<Route>> routes(String appId, List<String> regIds) {
        if (regIds.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        String[] keys = regIds.stream().map(r -> routeKey(appId, r)).toArray(String[]::new);
        return cmd().mget(keys).toCompletableFuture().thenApply(values -> {
            List<Route> out = new ArrayList<>(values.size());
            for (KeyValue<String, String> kv : values) {
                out.add(kv.hasValue() ? Route.decode(kv.getValue()) : null);
            }
            return out;
        });
    }

    /**
     * Queues message {@code msgId} for an offline device: the message first, then its queue entry, so a queue entry
     * never names a message that was not written.
     *
     * @return the queue's length after it
     */
    public CompletableFuture<Long> enqueue(String appId, String regId, long msgId, String messageJson,
                                           long acceptedAtMillis, long expiresAtMillis) {
        long ttl = Math.max(1000, expiresAtMillis - acceptedAtMillis);
        String queue = queueKey(appId, regId);
        return cmd().set(messageKey(msgId), messageJson, SetArgs.Builder.px(ttl)).toCompletableFuture()
                .thenCompose(x -> cmd().zadd(queue, acceptedAtMillis, Long.toString(msgId)).toCompletableFuture())
                .thenCompose(x -> cmd().zcard(queue).toCompletableFuture());
    }

    /** A queued message: its id and JSON (null if it expired). */
    public record Queued(long msgId, String json) {
    }

    /** Up to {@code limit} queued messages of the device, oldest first. */
    public CompletableFuture<List<Queued>> queued(String appId, String regId, int limit) {
        return indexed(queueKey(appId, regId), limit, DiskKv::messageKey);
    }

    /** The first {@code limit} members of zset {@code index} (msgIds) with the string each names. */
    private CompletableFuture<List<Queued>> indexed(String index, int limit, LongFunction<String> keyOf) {
        return cmd().zrange(index, 0, limit - 1L).toCompletableFuture().thenCompose(ids -> {
            if (ids.isEmpty()) {
                return CompletableFuture.completedFuture(List.of());
            }
            String[] keys = ids.stream().map(id -> keyOf.apply(Long.parseLong(id))).toArray(String[]::new);
            return cmd().mget(keys).toCompletableFuture().thenApply(values -> {
                List<Queued> out = new ArrayList<>(ids.size());
                for (int i = 0; i < ids.size(); i++) {
                    KeyValue<String, String> kv = values.get(i);
                    out.add(new Queued(Long.parseLong(ids.get(i)), kv.hasValue() ? kv.getValue() : null));
                }
                return out;
            });
        });
    }

    /** Removes delivered (or reconciled, or expired) messages from the device's queue: entry first, then body. */
    public CompletableFuture<Void> dequeue(String appId, String regId, List<Long> msgIds) {
        return removeIndexed(queueKey(appId, regId), msgIds, DiskKv::messageKey);
    }

    /** Removes msgIds from zset {@code index}, then the strings they name: an index never names a missing one. */
    private CompletableFuture<Void> removeIndexed(String index, List<Long> msgIds, LongFunction<String> keyOf) {
        if (msgIds.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String[] members = msgIds.stream().map(String::valueOf).toArray(String[]::new);
        String[] keys = msgIds.stream().map(keyOf::apply).toArray(String[]::new);
        return cmd().zrem(index, members).toCompletableFuture()
                .thenCompose(x -> cmd().del(keys).toCompletableFuture())
                .thenAccept(x -> { });
    }

    /**
     * Records (or updates) a single push accepted during a Redis outage, for reconciliation: the record first, then
     * its index entry, so the index never names a record that was not written.
     */
    public CompletableFuture<Void> putAside(AsideMessage m, long nowMillis) {
        long ttl = Math.max(1000, m.message().expiresAtMillis() - nowMillis);
        long msgId = m.message().msgId();
        return cmd().set(asideKey(msgId), m.toJson(), SetArgs.Builder.px(ttl)).toCompletableFuture()
                .thenCompose(x -> cmd().zadd(asideIndexKey(), m.message().createdAtMillis(), Long.toString(msgId))
                        .toCompletableFuture())
                .thenAccept(x -> { });
    }

    /** Up to {@code limit} aside records, oldest first; the JSON is null for one that expired. */
    public CompletableFuture<List<Queued>> aside(int limit) {
        return indexed(asideIndexKey(), limit, DiskKv::asideKey);
    }

    /** @return one aside record's JSON, or null */
    public CompletableFuture<String> asideRecord(long msgId) {
        return cmd().get(asideKey(msgId)).toCompletableFuture();
    }

    /** Removes reconciled aside records: index entries first, then the records. */
    public CompletableFuture<Void> forgetAside(List<Long> msgIds) {
        return removeIndexed(asideIndexKey(), msgIds, DiskKv::asideKey);
    }

    public static String broadcastLogKey(String appId) {
        return P + "bcast:" + appId;
    }

    public static String broadcastSeqKey(String appId) {
        return P + "bcast:seq:" + appId;
    }

    /** A broadcast as the disk KV keeps it: its sequence number and task. */
    public record LoggedBroadcast(long seq, long taskId) {
    }

    /**
     * Logs broadcast {@code seq} of task {@code taskId}, keeping the newest {@code maxLength} entries, and raises the
     * app's known sequence to {@code seq}. The raise is a read then a write (no Lua on Kvrocks): two nodes logging
     * the same app at the same instant may leave it one short, so {@link #nextBroadcastSeq} also looks at the log.
     */
    public CompletableFuture<Void> logBroadcast(String appId, long seq, long taskId, int maxLength) {
        String log = broadcastLogKey(appId);
        String seqKey = broadcastSeqKey(appId);
        return cmd().zadd(log, seq, Long.toString(taskId)).toCompletableFuture()
                .thenCompose(x -> cmd().zremrangebyrank(log, 0, -(maxLength + 1L)).toCompletableFuture())
                .thenCompose(x -> cmd().get(seqKey).toCompletableFuture())
                .thenCompose(cur -> cur != null && Long.parseLong(cur) >= seq
                        ? CompletableFuture.completedFuture(null)
                        : cmd().set(seqKey, Long.toString(seq)).toCompletableFuture())
                .thenAccept(x -> { });
    }

    /**
     * A sequence number for a broadcast made while Redis is down: above every number this disk KV has seen (Redis'
     * broadcasts are copied here as they happen), from one INCR so concurrent callers never share one.
     */
    public CompletableFuture<Long> nextBroadcastSeq(String appId) {
        String seqKey = broadcastSeqKey(appId);
        return cmd().zrangeWithScores(broadcastLogKey(appId), -1, -1).toCompletableFuture()
                .thenApply(last -> last.isEmpty() ? 0L : (long) last.get(0).getScore())
                .thenCompose(top -> cmd().incr(seqKey).toCompletableFuture().thenCompose(n -> n > top
                        ? CompletableFuture.completedFuture(n)
                        : cmd().set(seqKey, Long.toString(top + 1)).toCompletableFuture()
                        .thenCompose(x -> cmd().incr(seqKey).toCompletableFuture())));
    }

    /** The app's logged broadcasts after sequence {@code afterSeq}, oldest first, at most {@code limit}. */
    public CompletableFuture<List<LoggedBroadcast>> broadcastsAfter(String appId, long afterSeq, int limit) {
        return cmd().zrangebyscoreWithScores(broadcastLogKey(appId),
                        Range.from(Range.Boundary.excluding(afterSeq), Range.Boundary.unbounded()),
                        Limit.create(0, limit)).toCompletableFuture()
                .thenApply(list -> list.stream()
                        .map(sv -> new LoggedBroadcast((long) sv.getScore(), Long.parseLong(sv.getValue()))).toList());
    }

    /**
     * Catch-up during a Redis outage: the app's logged broadcasts after {@code afterSeq} whose body the disk KV holds
     * and that are live at {@code nowMillis}, oldest first, at most {@code limit} (as {@code BroadcastLog.since} reads
     * them from Redis). A task recalled before the outage has no body here any more, so it is not handed out.
     */
    public CompletableFuture<List<BroadcastEntry>> broadcastsSince(String appId, long afterSeq, long nowMillis,
                                                                   int limit) {
        return broadcastsAfter(appId, afterSeq, limit).thenCompose(logged -> {
            if (logged.isEmpty()) {
                return CompletableFuture.completedFuture(List.<BroadcastEntry>of());
            }
            String[] keys = logged.stream().map(b -> bodyKey(b.taskId())).toArray(String[]::new);
            return cmd().mget(keys).toCompletableFuture().thenApply(bodies -> {
                List<BroadcastEntry> out = new ArrayList<>(logged.size());
                for (int i = 0; i < logged.size(); i++) {
                    TaskBody body = bodies.get(i).hasValue() ? TaskBodyJson.read(bodies.get(i).getValue()) : null;
                    if (body != null && body.appId().equals(appId) && body.expiresAtMillis() > nowMillis) {
                        out.add(new BroadcastEntry(logged.get(i).seq(), body.taskId(), body.kind(), body.payload(),
                                body.expiresAtMillis()));
                    }
                }
                return out;
            });
        });
    }

    private static final String OUTAGE_TASKS = P + "outage:tasks";

    public static String outageCountKey(long taskId) {
        return P + "outage:count:" + taskId;
    }

    public static String outageOfflineKey(long taskId) {
        return P + "outage:offline:" + taskId;
    }

    public static String outageWrittenKey(long taskId) {
        return P + "outage:written:" + taskId;
    }

    public static String outageBroadcastKey(long taskId) {
        return P + "outage:bcast:" + taskId;
    }

    /**
     * Records what a group push did while Redis was down, for reconciling into Redis afterwards: counter deltas
     * (by counter wire name), devices it could not reach (to queue the task for them), devices it wrote to (queued
     * too, so their acks count as for any list push), and, for a broadcast, its app (to log it in Redis). The task
     * is named in the outage set last, so a listed task has its record.
     */
    public CompletableFuture<Void> recordOutagePush(long taskId, Map<String, Long> counterDeltas, List<String> offline,
                                                    List<String> written, String broadcastAppId) {
        List<CompletableFuture<?>> writes = new ArrayList<>();
        counterDeltas.forEach((field, delta) -> {
            if (delta != 0) {
                writes.add(cmd().hincrby(outageCountKey(taskId), field, delta).toCompletableFuture());
            }
        });
        if (!offline.isEmpty()) {
            writes.add(cmd().sadd(outageOfflineKey(taskId), offline.toArray(String[]::new)).toCompletableFuture());
        }
        if (!written.isEmpty()) {
            writes.add(cmd().sadd(outageWrittenKey(taskId), written.toArray(String[]::new)).toCompletableFuture());
        }
        if (broadcastAppId != null) {
            writes.add(cmd().set(outageBroadcastKey(taskId), broadcastAppId).toCompletableFuture());
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
                .thenCompose(x -> cmd().sadd(OUTAGE_TASKS, Long.toString(taskId)).toCompletableFuture())
                .thenAccept(x -> { });
    }

    /** What the outage recorded for one task. */
    public record OutagePush(long taskId, Map<String, Long> counterDeltas, List<String> offline,
                             List<String> written, String broadcastAppId) {
    }

    /** The taskIds with an outage record. */
    public CompletableFuture<List<Long>> outageTasks() {
        return cmd().smembers(OUTAGE_TASKS).toCompletableFuture()
                .thenApply(ids -> ids.stream().map(Long::parseLong).sorted().toList());
    }

    public CompletableFuture<OutagePush> outagePush(long taskId) {
        CompletableFuture<Map<String, String>> counts = cmd().hgetall(outageCountKey(taskId)).toCompletableFuture();
        CompletableFuture<Set<String>> offline = cmd().smembers(outageOfflineKey(taskId)).toCompletableFuture();
        CompletableFuture<Set<String>> written = cmd().smembers(outageWrittenKey(taskId)).toCompletableFuture();
        CompletableFuture<String> app = cmd().get(outageBroadcastKey(taskId)).toCompletableFuture();
        return CompletableFuture.allOf(counts, offline, written, app).thenApply(x -> {
            Map<String, Long> deltas = new HashMap<>();
            counts.join().forEach((k, v) -> deltas.put(k, Long.parseLong(v)));
            return new OutagePush(taskId, deltas, List.copyOf(new TreeSet<>(offline.join())),
                    List.copyOf(new TreeSet<>(written.join())), app.join());
        });
    }

    /**
     * Takes a task's outage record off the list for reconciling: true for exactly one caller (SREM), so two logic
     * nodes reconciling at once never both apply it. The caller then {@link #forgetOutagePush forgets} it once
     * applied, or {@link #returnOutagePush returns} it when it could not be.
     */
    public CompletableFuture<Boolean> claimOutagePush(long taskId) {
        return cmd().srem(OUTAGE_TASKS, Long.toString(taskId)).toCompletableFuture().thenApply(n -> n == 1);
    }

    /** Puts a claimed record back on the list (applying it failed). */
    public CompletableFuture<Void> returnOutagePush(long taskId) {
        return cmd().sadd(OUTAGE_TASKS, Long.toString(taskId)).toCompletableFuture().thenAccept(x -> { });
    }

    /** Deletes a claimed task's outage record, applied to Redis. */
    public CompletableFuture<Void> forgetOutagePush(long taskId) {
        return cmd().del(outageCountKey(taskId), outageOfflineKey(taskId), outageWrittenKey(taskId),
                        outageBroadcastKey(taskId))
                .toCompletableFuture().thenAccept(x -> { });
    }

    public boolean isOpen() {
        return connection.isOpen();
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
