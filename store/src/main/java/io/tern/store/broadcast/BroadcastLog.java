package io.tern.store.broadcast;

import io.lettuce.core.ScriptOutputType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Per-app log of broadcasts ("all" pushes), so a device that was offline during one catches up
 * when it reconnects. Each broadcast gets the next number of the app's broadcast sequence
 * ({@code tern:bcast:seq:{app}}, never expires); the log {@code tern:bcast:{app}} holds taskIds
 * scored by that number, bounded by length and by its tasks' TTLs. Task bodies are not copied:
 * reads take kind, payload, expiry and state from {@code tern:task:{id}}, so a recalled or
 * expired task is never handed out.
 */
public final class BroadcastLog {
    /** Entries kept per app when not configured. */
    public static final int DEFAULT_MAX_LENGTH = 100;
    private static final LuaScript APPEND = LuaScript.load("bcast-append");
    private static final LuaScript SINCE = LuaScript.load("bcast-since");

    private final RedisStore redis;
    private final int maxLength;

    public BroadcastLog(RedisStore redis) {
        this(redis, DEFAULT_MAX_LENGTH);
    }

    /** @param maxLength most entries kept per app (1..100,000); older ones are dropped on append */
    public BroadcastLog(RedisStore redis, int maxLength) {
        if (maxLength < 1 || maxLength > 100_000) {
            throw new IllegalArgumentException("maxLength must be in [1, 100000]: " + maxLength);
        }
        this.redis = redis;
        this.maxLength = maxLength;
    }

    /** The log of an app's broadcasts: zset of taskIds scored by broadcast sequence. */
    public static String logKey(String appId) {
        return "tern:bcast:" + appId;
    }

    /** The app's broadcast sequence counter. */
    public static String seqKey(String appId) {
        return "tern:bcast:seq:" + appId;
    }

    /** {@link #append(String, long, long, long)} at the current wall-clock time. */
    public CompletableFuture<Long> append(String appId, long taskId, long expiresAtMillis) {
        return append(appId, taskId, expiresAtMillis, System.currentTimeMillis());
    }

    /**
     * Logs a broadcast of task {@code taskId} (which must exist) and returns its sequence number,
     * to send in the BROADCAST frames. Also records {@code bcastAt} (now) and {@code bcastSeq} on
     * the task hash. Appending the same task again moves it to a new number. Fails with
     * {@link IllegalArgumentException} when the task does not exist.
     */
    public CompletableFuture<Long> append(String appId, long taskId, long expiresAtMillis, long nowMillis) {
        return APPEND.<Long>run(redis.async(), ScriptOutputType.INTEGER,
                        new String[]{seqKey(appId), logKey(appId), Keys.task(taskId)},
                        Long.toString(taskId), Long.toString(expiresAtMillis), Long.toString(nowMillis),
                        Integer.toString(maxLength))
                .thenApply(seq -> {
                    if (seq < 0) {
                        throw new IllegalArgumentException("task " + taskId + " does not exist");
                    }
                    return seq;
                });
    }

    /**
     * Broadcasts of the app after sequence {@code afterSeq} that are still live at {@code nowMillis},
     * oldest first, at most {@code limit}. A device holding a number beyond the app's current
     * sequence (the store was reset) gets every live entry.
     */
    public CompletableFuture<List<BroadcastEntry>> since(String appId, long afterSeq, long nowMillis, int limit) {
        return read(appId, afterSeq, -1, nowMillis, limit);
    }

    /**
     * Broadcasts of the app logged strictly after {@code afterMillis} (for a device that kept no
     * sequence: its previous connect time), still live at {@code nowMillis}, oldest first.
     */
    public CompletableFuture<List<BroadcastEntry>> appendedAfter(String appId, long afterMillis, long nowMillis, int limit) {
        return read(appId, 0, afterMillis, nowMillis, limit);
    }

    /** The app's latest broadcast sequence number, 0 when it never broadcast. */
    public CompletableFuture<Long> lastSeq(String appId) {
        return redis.async().get(seqKey(appId)).toCompletableFuture().thenApply(v -> v == null ? 0L : Long.parseLong(v));
    }

    /**
     * When the device last connected before now, or null for a device never seen (or forgotten).
     * Read it before the new connection's route write overwrites it ({@code tern:device:{app}:{reg}}
     * holds the last connect time); commands on one connection run in order, so issuing this
     * first is enough.
     */
    public CompletableFuture<Long> previousConnect(String appId, String regId) {
        return redis.async().get(Keys.device(appId, regId)).toCompletableFuture()
                .thenApply(v -> v == null ? null : Long.parseLong(v));
    }

    private CompletableFuture<List<BroadcastEntry>> read(String appId, long afterSeq, long afterMillis, long nowMillis,
                                                         int limit) {
        if (limit <= 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        return SINCE.<List<Object>>run(redis.async(), ScriptOutputType.MULTI,
                        new String[]{logKey(appId), seqKey(appId)}, Long.toString(Math.max(0, afterSeq)),
                        Long.toString(afterMillis), Long.toString(nowMillis), Integer.toString(limit))
                .thenApply(BroadcastLog::entries);
    }

    private static List<BroadcastEntry> entries(List<Object> flat) {
        List<BroadcastEntry> out = new ArrayList<>(flat.size() / 5);
        for (int i = 0; i + 4 < flat.size(); i += 5) {
            out.add(new BroadcastEntry(parseScore(str(flat.get(i))), Long.parseLong(str(flat.get(i + 1))),
                    PayloadKind.fromCode(Integer.parseInt(str(flat.get(i + 2)))), str(flat.get(i + 3)),
                    Long.parseLong(str(flat.get(i + 4)))));
        }
        return out;
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    /** Scores come back as Redis formats doubles; sequence numbers are whole. */
    private static long parseScore(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return (long) Double.parseDouble(s);
        }
    }
}
