package io.tern.store.throttle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Replica floors in one hash, {@link Keys#replicaFloors()} (field id, value the floor as JSON). Expired floors
 * are removed when read, so the hash holds only floors that are open or ahead; its size is bounded by
 * {@code maxFloors}.
 */
public final class ReplicaFloorRepository {
    public static final int DEFAULT_MAX_FLOORS = 1000;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    // KEYS: floors hash. ARGV: id, json, max. A new id is refused when the hash is full; a known id is replaced.
    private static final LuaScript PUT = LuaScript.of("""
            if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
              return 0
            end
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            return 1""");

    private final RedisStore redis;
    private final int maxFloors;

    public ReplicaFloorRepository(RedisStore redis) {
        this(redis, DEFAULT_MAX_FLOORS);
    }

    public ReplicaFloorRepository(RedisStore redis, int maxFloors) {
        if (maxFloors < 1) {
            throw new IllegalArgumentException("maxFloors must be at least 1, got " + maxFloors);
        }
        this.redis = redis;
        this.maxFloors = maxFloors;
    }

    /**
     * Stores the floor, replacing one with the same id.
     *
     * @return true when stored; false when {@code maxFloors} other floors are stored already
     */
    public CompletableFuture<Boolean> put(ReplicaFloor floor) {
        return PUT.<Long>run(redis.async(), ScriptOutputType.INTEGER, new String[]{Keys.replicaFloors()},
                floor.id(), encode(floor), Integer.toString(maxFloors)).thenApply(n -> n == 1L);
    }

    /** @return true when a floor with that id was stored */
    public CompletableFuture<Boolean> delete(String id) {
        return redis.async().hdel(Keys.replicaFloors(), id).toCompletableFuture().thenApply(n -> n > 0);
    }

    /**
     * Every floor not yet expired at {@code nowMillis} (open and ahead), earliest start first. Expired floors
     * and unreadable entries are removed on the way.
     */
    public CompletableFuture<List<ReplicaFloor>> current(long nowMillis) {
        return redis.async().hgetall(Keys.replicaFloors()).toCompletableFuture().thenCompose(all -> {
            List<ReplicaFloor> live = new ArrayList<>(all.size());
            List<String> gone = new ArrayList<>();
            for (Map.Entry<String, String> e : all.entrySet()) {
                ReplicaFloor floor = decode(e.getValue());
                if (floor == null || floor.expiredAt(nowMillis)) {
                    gone.add(e.getKey());
                } else {
                    live.add(floor);
                }
            }
            live.sort(Comparator.comparingLong(ReplicaFloor::fromMillis).thenComparing(ReplicaFloor::id));
            if (gone.isEmpty()) {
                return CompletableFuture.completedFuture(live);
            }
            return redis.async().hdel(Keys.replicaFloors(), gone.toArray(String[]::new)).toCompletableFuture()
                    .thenApply(n -> live);
        });
    }

    /** The floors open at {@code nowMillis}. */
    public CompletableFuture<List<ReplicaFloor>> active(long nowMillis) {
        return current(nowMillis).thenApply(all -> all.stream().filter(f -> f.activeAt(nowMillis)).toList());
    }

    private static ReplicaFloor decode(String json) {
        try {
            return JSON.readValue(json, ReplicaFloor.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return null; // written by a version this one cannot read, or corrupt: not a floor to obey
        }
    }

    private static String encode(ReplicaFloor floor) {
        try {
            return JSON.writeValueAsString(floor);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
