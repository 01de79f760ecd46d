package io.tern.store.region;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The persisted region policy: one hash ({@code v}, {@code json}) replaced only by compare-and-set on
 * the version, an audit log of every change (newest first, bounded), and a pub/sub channel that
 * carries each new version to watchers ({@link RegionPolicyWatcher}).
 */
public final class RegionPolicyRepository {
    /** Pub/sub channel announcing a new policy version (the message is the version). */
    public static final String CHANGES_CHANNEL = "tern:regions:changed";
    public static final int DEFAULT_LOG_MAX = 1000;

    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final LuaScript REPLACE = LuaScript.load("versioned-replace");

    private final RedisStore redis;
    private final int logMax;

    public RegionPolicyRepository(RedisStore redis) {
        this(redis, DEFAULT_LOG_MAX);
    }

    /** @param logMax audit entries kept, newest first */
    public RegionPolicyRepository(RedisStore redis, int logMax) {
        if (logMax < 1) {
            throw new IllegalArgumentException("logMax must be at least 1, got " + logMax);
        }
        this.redis = redis;
        this.logMax = logMax;
    }

    /** The stored policy, or {@link RegionPolicy#EMPTY} before the first write. */
    public CompletableFuture<RegionPolicy> load() {
        return redis.async().hget(Keys.regionPolicy(), "json").toCompletableFuture()
                .thenApply(json -> json == null ? RegionPolicy.EMPTY : decode(json));
    }

    /**
     * Stores {@code next} if the stored policy is still at {@code next.version() - 1}, and logs
     * {@code change} (its version is set to {@code next.version()}).
     *
     * @return true when stored; false when another writer got there first (reload and retry)
     */
    public CompletableFuture<Boolean> replace(RegionPolicy next, PolicyChange change) {
        return replace(next, change, null);
    }

    /**
     * As {@link #replace(RegionPolicy, PolicyChange)}, and only while {@code leaseHolder} holds the scheduler
     * leader lease ({@link Keys#schedulerLeader()}), checked in the same script: a leader that lost its lease
     * (a long pause, say) cannot write a step after its successor has.
     *
     * @param leaseHolder {@code schedulerId|token}, or null for a write that any instance may make (an SRE's)
     * @return true when stored; false when the version was stale or the lease is another's
     */
    public CompletableFuture<Boolean> replace(RegionPolicy next, PolicyChange change, String leaseHolder) {
        PolicyChange logged = new PolicyChange(next.version(), change.atMillis(), change.by(), change.action(),
                change.region(), change.detail());
        String[] keys = leaseHolder == null ? new String[]{Keys.regionPolicy(), Keys.regionPolicyLog()}
                : new String[]{Keys.regionPolicy(), Keys.regionPolicyLog(), Keys.schedulerLeader()};
        String[] args = {Long.toString(next.version() - 1), Long.toString(next.version()), encode(next), encode(logged),
                Integer.toString(logMax), CHANGES_CHANNEL, leaseHolder == null ? "" : leaseHolder};
        return REPLACE.<Long>run(redis.async(), ScriptOutputType.INTEGER, keys, args)
                .thenApply(stored -> stored == 1L);
    }

    /** The newest {@code limit} changes, newest first. */
    public CompletableFuture<List<PolicyChange>> history(int limit) {
        return redis.async().lrange(Keys.regionPolicyLog(), 0, Math.max(0, limit - 1)).toCompletableFuture()
                .thenApply(rows -> {
                    List<PolicyChange> out = new ArrayList<>(rows.size());
                    for (String row : rows) {
                        try {
                            out.add(JSON.readValue(row, PolicyChange.class));
                        } catch (JsonProcessingException e) {
                            // An entry this version cannot read is skipped, not fatal.
                        }
                    }
                    return out;
                });
    }

    static RegionPolicy decode(String json) {
        try {
            return JSON.readValue(json, RegionPolicy.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored region policy is not readable: " + e.getOriginalMessage(), e);
        }
    }

    static String encode(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
