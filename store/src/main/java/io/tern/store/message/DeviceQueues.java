package io.tern.store.message;

import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The steps on a device queue that reach past the device's slot: evicting entries beyond the bound (found by
 * the accept or a task copy's queueing) and counting the task copies that left it expired in their tasks.
 */
public final class DeviceQueues {
    private static final LuaScript EVICT = LuaScript.load("queue-evict");
    // KEYS: 1 task hash. Never creates a task hash (it would have no TTL). The counter is named as the scripts
    // name task counters (task.TaskCounter.EXPIRED's field): the task package builds on this one, not back.
    private static final LuaScript COUNT = LuaScript.of("if redis.call('EXISTS', KEYS[1]) == 1 then "
            + "return redis.call('HINCRBY', KEYS[1], 'n:expired', 1) end return 0");

    private DeviceQueues() {
    }

    /**
     * Evicts {@code ids} (the oldest entries beyond the bound) from the device's queue: messages are marked
     * expired in the same script; evicted task copies then count as expired in their tasks.
     */
    public static CompletableFuture<Void> evict(RedisStore redis, String appId, String regId, List<String> ids) {
        if (ids.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String[] keys = new String[ids.size() + 1];
        keys[0] = Keys.queue(appId, regId);
        for (int i = 0; i < ids.size(); i++) {
            keys[i + 1] = Keys.message(appId, regId, Long.parseLong(ids.get(i)));
        }
        return EVICT.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, keys, ids.toArray(String[]::new))
                .thenCompose(tasks -> countExpired(redis, tasks.stream().map(t -> Long.parseLong((String) t)).toList()));
    }

    /** Adds one to n:expired of each task (a copy left a queue unsent); a task already gone is left gone. */
    static CompletableFuture<Void> countExpired(RedisStore redis, List<Long> taskIds) {
        var async = redis.async();
        List<CompletableFuture<Object>> all = new ArrayList<>(taskIds.size());
        for (long id : taskIds) {
            all.add(COUNT.run(async, ScriptOutputType.INTEGER, new String[]{Keys.task(id)}));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }
}
