package io.tern.store.tag;

import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.tern.protocol.frame.Tags;
import io.tern.store.Keys;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Tags: per app, a set of regIds per tag ({@code tern:tag:{app}:{tag}}, no TTL). Devices add and
 * remove themselves through their broker (SUBSCRIBE / UNSUBSCRIBE); app servers through the
 * logic node. Large tags are never read whole: {@link #scan} streams them in chunks and
 * {@link #members} checks a list against a tag in one call. Tag names follow {@link Tags}.
 */
public final class TagRepository {
    /** Most members sent in one SADD / SREM / SMISMEMBER; longer lists are split. */
    public static final int MAX_PER_COMMAND = 1000;
    /** Largest COUNT hint for one scan step. */
    public static final int MAX_SCAN_COUNT = 10_000;

    private final RedisStore redis;

    public TagRepository(RedisStore redis) {
        this.redis = redis;
    }

    public static String key(String appId, String tag) {
        return Keys.tag(appId, tag);
    }

    /** Adds devices to the tag; completes with how many were not members before. */
    public CompletableFuture<Long> add(String appId, String tag, List<String> regIds) {
        return sum(appId, tag, regIds, true);
    }

    /** Removes devices from the tag; completes with how many were members. */
    public CompletableFuture<Long> remove(String appId, String tag, List<String> regIds) {
        return sum(appId, tag, regIds, false);
    }

    /** For each regId, in order: is it in the tag. */
    public CompletableFuture<List<Boolean>> members(String appId, String tag, List<String> regIds) {
        String key = key(appId, checked(tag));
        if (regIds.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        var async = redis.async();
        List<CompletableFuture<List<Boolean>>> parts = new ArrayList<>();
        for (int from = 0; from < regIds.size(); from += MAX_PER_COMMAND) {
            List<String> part = regIds.subList(from, Math.min(regIds.size(), from + MAX_PER_COMMAND));
            parts.add(async.smismember(key, part.toArray(String[]::new)).toCompletableFuture());
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(x -> {
            List<Boolean> out = new ArrayList<>(regIds.size());
            parts.forEach(p -> out.addAll(p.join()));
            return out;
        });
    }

    /**
     * One step of streaming the tag's members (SSCAN). Start with {@link TagChunk#START}; about
     * {@code count} members come back per step (a hint to Redis, 1..{@value #MAX_SCAN_COUNT}).
     */
    public CompletableFuture<TagChunk> scan(String appId, String tag, String cursor, int count) {
        if (count < 1 || count > MAX_SCAN_COUNT) {
            throw new IllegalArgumentException("count must be in [1, " + MAX_SCAN_COUNT + "]: " + count);
        }
        return redis.async().sscan(key(appId, checked(tag)), ScanCursor.of(cursor), ScanArgs.Builder.limit(count))
                .toCompletableFuture()
                .thenApply(c -> new TagChunk(c.getValues(), c.getCursor(), c.isFinished()));
    }

    /** How many devices the tag holds. */
    public CompletableFuture<Long> size(String appId, String tag) {
        return redis.async().scard(key(appId, checked(tag))).toCompletableFuture();
    }

    private CompletableFuture<Long> sum(String appId, String tag, List<String> regIds, boolean add) {
        String key = key(appId, checked(tag));
        if (regIds.isEmpty()) {
            return CompletableFuture.completedFuture(0L);
        }
        var async = redis.async();
        CompletableFuture<Long> total = CompletableFuture.completedFuture(0L);
        for (int from = 0; from < regIds.size(); from += MAX_PER_COMMAND) {
            String[] part = regIds.subList(from, Math.min(regIds.size(), from + MAX_PER_COMMAND)).toArray(String[]::new);
            CompletableFuture<Long> n = (add ? async.sadd(key, part) : async.srem(key, part)).toCompletableFuture();
            total = total.thenCombine(n, Long::sum);
        }
        return total;
    }

    private static String checked(String tag) {
        if (!Tags.isValid(tag)) {
            throw new IllegalArgumentException("tag must match [A-Za-z0-9._:-]{1," + Tags.MAX_LENGTH + "}: " + tag);
        }
        return tag;
    }
}
