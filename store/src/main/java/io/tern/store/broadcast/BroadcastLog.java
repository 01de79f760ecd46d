package io.tern.store.broadcast;

import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Per-app log of broadcasts ("all" pushes), so a device that was offline during one catches up
 * when it reconnects. Each broadcast gets the next number of the app's broadcast sequence
 * ({@link Keys#broadcastSeq}, never expires); the log {@link Keys#broadcastLog} holds taskIds
 * scored by that number, bounded by length and by its tasks' TTLs. Task bodies are not copied:
 * reads take kind, payload, expiry and state from the task hash ({@link Keys#task}, another slot, read in
 * the same flush), so a recalled or expired task is never handed out.
 */
public final class BroadcastLog {
    private static final Logger log = LoggerFactory.getLogger(BroadcastLog.class);
    /** Entries kept per app when not configured. */
    public static final int DEFAULT_MAX_LENGTH = 100;
    private static final LuaScript MARK = LuaScript.load("bcast-mark");
    private static final LuaScript APPEND = LuaScript.load("bcast-append");
    private static final LuaScript TRIM = LuaScript.load("bcast-trim");
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

    /** {@link #append(String, long, long, long)} at the current wall-clock time. */
    public CompletableFuture<Long> append(String appId, long taskId, long expiresAtMillis) {
        return append(appId, taskId, expiresAtMillis, System.currentTimeMillis());
    }

    /**
     * Logs a broadcast of task {@code taskId} (which must exist) and returns its sequence number,
     * to send in the BROADCAST frames. Also records {@code bcastAt} (now) and {@code bcastSeq} on
     * the task hash, and cuts the log to its length. Appending the same task again moves it to a new number. Fails
     * with {@link IllegalArgumentException} when the task does not exist. Entries of dead tasks (gone, expired,
     * recalled) are dropped after the number is returned, off the broadcast's path.
     */
    public CompletableFuture<Long> append(String appId, long taskId, long expiresAtMillis, long nowMillis) {
        // Four steps over two slots (the task's, the log's), each safe to stop after: see the scripts.
        var async = redis.async();
        String task = Keys.task(taskId);
        String id = Long.toString(taskId);
        CompletableFuture<Long> marked = MARK.run(async, ScriptOutputType.INTEGER, new String[]{task},
                Long.toString(nowMillis));
        Supplier<CompletableFuture<List<Object>>> appended = () -> APPEND.run(async, ScriptOutputType.MULTI,
                new String[]{Keys.broadcastSeq(appId), Keys.broadcastLog(appId)}, id, Long.toString(expiresAtMillis),
                Long.toString(nowMillis), Integer.toString(maxLength));
        CompletableFuture<List<Object>> logged;
        if (redis.isCluster()) {
            // The log is on another node, which could run step 2 before step 1: wait for the mark.
            logged = marked.thenCompose(found -> {
                if (found < 0) {
                    throw unknown(taskId);
                }
                return appended.get();
            });
        } else {
            // One connection runs them in order: both in one round trip. An unknown task's entry is taken out again
            // (its sequence number is skipped, as a dropped entry's is).
            CompletableFuture<List<Object>> both = appended.get();
            logged = marked.thenCompose(found -> {
                if (found >= 0) {
                    return both;
                }
                return both.handle((r, e) -> async.zrem(Keys.broadcastLog(appId), id).toCompletableFuture())
                        .thenCompose(f -> f).<List<Object>>thenApply(n -> {
                            throw unknown(taskId);
                        });
            });
        }
        return logged.thenCompose(r -> {
            long seq = (Long) r.get(0);
            CompletableFuture<Long> numbered = async.hset(task, "bcastSeq", Long.toString(seq)).toCompletableFuture()
                    // The entry devices catch up from, and the task's number, survive a failover.
                    .thenCompose(x -> redis.replicated(task, Keys.broadcastLog(appId)))
                    .thenApply(x -> seq);
            dropDead(appId, r.subList(1, r.size()), nowMillis);
            return numbered;
        });
    }

    /** Step 4: reads the other entries' tasks and drops those gone, expired or recalled; a failure waits for the next append. */
    private void dropDead(String appId, List<Object> others, long nowMillis) {
        var async = redis.async();
        List<String> ids = new ArrayList<>(others.size());
        List<CompletableFuture<List<KeyValue<String, String>>>> states = new ArrayList<>(others.size());
        for (Object o : others) {
            String other = str(o);
            ids.add(other);
            states.add(async.hmget(Keys.task(Long.parseLong(other)), "expires", "state").toCompletableFuture());
        }
        CompletableFuture.allOf(states.toArray(CompletableFuture[]::new)).thenCompose(x -> {
            List<String> dead = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                if (!live(states.get(i).join(), 0, 1, nowMillis)) {
                    dead.add(ids.get(i));
                }
            }
            return dead.isEmpty() ? CompletableFuture.completedFuture(0L)
                    : TRIM.<Long>run(async, ScriptOutputType.INTEGER, new String[]{Keys.broadcastLog(appId)},
                    dead.toArray(String[]::new));
        }).whenComplete((n, e) -> {
            if (e != null) {
                log.debug("[broadcast log app={}] dead entries not dropped, the next append looks again: {}", appId,
                        e.toString());
            }
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
        return redis.async().get(Keys.broadcastSeq(appId)).toCompletableFuture().thenApply(v -> v == null ? 0L : Long.parseLong(v));
    }

    /**
     * When the device last connected before now, or null for a device never seen (or forgotten).
     * Read it before the new connection's route write overwrites it ({@link Keys#device}
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
        var async = redis.async();
        // The log's slot, then its tasks' slots in one flush: a device already up to date costs one round trip.
        return SINCE.<List<Object>>run(async, ScriptOutputType.MULTI,
                        new String[]{Keys.broadcastLog(appId), Keys.broadcastSeq(appId)}, Long.toString(Math.max(0, afterSeq)))
                .thenCompose(flat -> {
                    List<CompletableFuture<List<KeyValue<String, String>>>> tasks = new ArrayList<>(flat.size() / 2);
                    for (int i = 0; i + 1 < flat.size(); i += 2) {
                        tasks.add(async.hmget(Keys.task(Long.parseLong(str(flat.get(i + 1)))),
                                "kind", "payload", "expires", "state", "bcastAt").toCompletableFuture());
                    }
                    return CompletableFuture.allOf(tasks.toArray(CompletableFuture[]::new)).thenApply(x -> {
                        List<BroadcastEntry> out = new ArrayList<>();
                        for (int i = 0; i < tasks.size() && out.size() < limit; i++) {
                            List<KeyValue<String, String>> t = tasks.get(i).join();
                            if (t.get(0).hasValue() && live(t, 2, 3, nowMillis)
                                    && Long.parseLong(t.get(4).getValueOrElse("0")) > afterMillis) {
                                out.add(new BroadcastEntry(parseScore(str(flat.get(2 * i))),
                                        Long.parseLong(str(flat.get(2 * i + 1))),
                                        PayloadKind.fromCode(Integer.parseInt(t.get(0).getValue())), t.get(1).getValue(),
                                        Long.parseLong(t.get(2).getValue())));
                            }
                        }
                        return out;
                    });
                });
    }

    /** A task still worth handing out: there, not past its expiry, not recalled. */
    private static boolean live(List<KeyValue<String, String>> t, int expires, int state, long nowMillis) {
        return t.get(expires).hasValue() && Long.parseLong(t.get(expires).getValue()) > nowMillis
                && !"recalled".equals(t.get(state).getValueOrElse(null));
    }

    private static IllegalArgumentException unknown(long taskId) {
        return new IllegalArgumentException("task " + taskId + " does not exist");
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
