package io.tern.store.diskkv;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.tern.store.route.Route;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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
 * </pre>
 */
public final class DiskKv implements AutoCloseable {
    /** Every command this class sends (upper case). */
    public static final Set<String> COMMANDS = Set.of("PING", "GET", "SET", "DEL", "MGET", "ZADD", "ZRANGE",
            "ZREM", "ZCARD");
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

    public static String asideKey(long msgId) {
        return P + "aside:" + msgId;
    }

    /** The index of every aside record (one for all logic nodes: any of them reconciles all, idempotently). */
    public static String asideIndexKey() {
        return P + "aside";
    }

    public static String queueKey(String appId, String regId) {
        return P + "queue:" + appId + ':' + regId;
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
        return cmd().zrange(queueKey(appId, regId), 0, limit - 1L).toCompletableFuture().thenCompose(ids -> {
            if (ids.isEmpty()) {
                return CompletableFuture.completedFuture(List.of());
            }
            String[] keys = ids.stream().map(id -> messageKey(Long.parseLong(id))).toArray(String[]::new);
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
        if (msgIds.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String[] members = msgIds.stream().map(String::valueOf).toArray(String[]::new);
        String[] keys = msgIds.stream().map(DiskKv::messageKey).toArray(String[]::new);
        return cmd().zrem(queueKey(appId, regId), members).toCompletableFuture()
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
        return cmd().zrange(asideIndexKey(), 0, limit - 1L).toCompletableFuture().thenCompose(ids -> {
            if (ids.isEmpty()) {
                return CompletableFuture.completedFuture(List.of());
            }
            String[] keys = ids.stream().map(id -> asideKey(Long.parseLong(id))).toArray(String[]::new);
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

    /** @return one aside record's JSON, or null */
    public CompletableFuture<String> asideRecord(long msgId) {
        return cmd().get(asideKey(msgId)).toCompletableFuture();
    }

    /** Removes reconciled aside records: index entries first, then the records. */
    public CompletableFuture<Void> forgetAside(List<Long> msgIds) {
        if (msgIds.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String[] members = msgIds.stream().map(String::valueOf).toArray(String[]::new);
        String[] keys = msgIds.stream().map(DiskKv::asideKey).toArray(String[]::new);
        return cmd().zrem(asideIndexKey(), members).toCompletableFuture()
                .thenCompose(x -> cmd().del(keys).toCompletableFuture())
                .thenAccept(x -> { });
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
