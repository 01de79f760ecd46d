package io.tern.store.receipt;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.ByteArrayOutput;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.Keys;
import io.tern.store.TestRedis;
import io.tern.store.message.QueuePolicy;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskCounter;
import io.tern.store.task.TaskRepository;
import io.tern.store.task.TaskState;
import io.tern.store.topic.DeviceHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A broadcast's counted devices on a real Redis, as several logic nodes' receipt consumers share them. */
class CountedDevicesIT {
    private static final long NOW = System.currentTimeMillis();
    private static final AtomicLong ids = new AtomicLong(System.nanoTime());

    private static RedisStore redis;
    private static TaskRepository tasks;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(5));
        tasks = new TaskRepository(redis, new QueuePolicy(100, Duration.ofDays(7), Duration.ofDays(1), Duration.ofHours(24)));
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static long broadcast() {
        long id = ids.incrementAndGet();
        tasks.create(new TaskBody(id, "app", PayloadKind.DATA, "{}", NOW, NOW + 60_000, null, null, 0),
                TaskState.SENDING).join();
        tasks.markBroadcast(id, 100_000, 2).join();
        return id;
    }

    private static long delivered(long task) {
        return tasks.find(task).join().counter(TaskCounter.DELIVERED);
    }

    private static long[] devices(int from, int to) {
        return IntStream.range(from, to).mapToLong(i -> DeviceHash.of("d" + i)).toArray();
    }

    @Test
    void nodesCountingOneBroadcastAtOnceCountEachDeviceOnce() {
        long task = broadcast();
        // Three nodes (a rebalance, per-device acks read elsewhere) each apply overlapping records at once.
        List<CountedDevices> nodes = List.of(new CountedDevices(redis, 100_000), new CountedDevices(redis, 100_000),
                new CountedDevices(redis, 100_000));
        List<CompletableFuture<long[]>> adds = new ArrayList<>();
        for (int from = 0; from < 3_000; from += 100) {
            for (int n = 0; n < nodes.size(); n++) {
                int start = from + 50 * n; // each record overlaps the next node's
                adds.add(nodes.get(n).add(task, devices(start, start + 100)));
            }
        }
        long added = adds.stream().mapToLong(f -> f.join().length).sum();
        assertEquals(3_100, added, "devices d0..d3099, whichever node counted each");
        assertEquals(3_100, delivered(task));
        assertEquals(3_100L * 8, redis.async().strlen(Keys.taskAckSet(task)).toCompletableFuture().join());
    }

    @Test
    void aReplayIsAnsweredFromMemoryAndDuplicatesInARecordCountOnce() {
        long task = broadcast();
        CountedDevices node = new CountedDevices(redis, 100_000);
        long[] twice = new long[]{DeviceHash.of("a"), DeviceHash.of("b"), DeviceHash.of("a")};
        assertEquals(2, node.add(task, twice).join().length);
        redis.async().del(Keys.task(task)).toCompletableFuture().join();
        assertEquals(0, node.add(task, twice).join().length,
                "known devices never reach Redis (which no longer knows the task and would answer unknown)");
        assertNull(node.add(task, devices(0, 1)).join(), "a new device of a task past its retention is not counted");
        assertNull(node.add(ids.incrementAndGet(), devices(0, 1)).join(), "nor of a task never known");
        assertEquals(2, node.held());
        assertEquals(1, node.broadcastsHeld(), "a task never known holds no entry");
    }

    @Test
    void aBroadcastDroppedFromMemoryIsReadBackAndCountsNoDeviceTwice() {
        CountedDevices node = new CountedDevices(redis, 1_000);
        long first = broadcast();
        long second = broadcast();
        long third = broadcast();
        assertEquals(600, node.add(first, devices(0, 600)).join().length);
        assertEquals(600, node.add(second, devices(0, 600)).join().length);
        assertEquals(600, node.held(), "the least recently counted broadcast was dropped: at most 1,000 held");
        assertEquals(600, node.add(third, devices(0, 600)).join().length);
        assertEquals(100, node.add(first, devices(500, 700)).join().length, "first's set was read back from Redis");
        assertEquals(700, delivered(first));
        assertTrue(node.held() <= 1_000, "held " + node.held());
    }

    @Test
    void aSetShorterThanTheNodeReadItIsReadAgainOnTheNextNewDevice() {
        long task = broadcast();
        CountedDevices node = new CountedDevices(redis, 100_000);
        assertEquals(100, node.add(task, devices(0, 100)).join().length);
        // Redis came back from an older snapshot that held only d0..d9, and the counter as it was then.
        byte[] tenDevices = Arrays.copyOf(
                redis.async().dispatch(CommandType.GET,
                        new ByteArrayOutput<>(StringCodec.UTF8),
                        new CommandArgs<>(StringCodec.UTF8)
                                .addKey(Keys.taskAckSet(task))).toCompletableFuture().join(), 80);
        redis.async().del(Keys.taskAckSet(task)).toCompletableFuture().join();
        redis.async().dispatch(CommandType.SET,
                new StatusOutput<>(StringCodec.UTF8),
                new CommandArgs<>(StringCodec.UTF8)
                        .addKey(Keys.taskAckSet(task)).add(tenDevices)).toCompletableFuture().join();
        redis.async().hset(Keys.task(task), "n:delivered", "10").toCompletableFuture().join();

        assertEquals(50, node.add(task, devices(100, 150)).join().length,
                "the first new devices find the string shorter: the node reads it again, then appends");
        assertEquals(60, delivered(task));
        assertEquals(90, node.add(task, devices(0, 100)).join().length,
                "d10..d99, lost with Redis, are no longer known to the node either: their next acks count");
        assertEquals(150, delivered(task));
        assertEquals(150L * 8, redis.async().strlen(Keys.taskAckSet(task)).toCompletableFuture().join());
    }

    @Test
    void theScriptRefusesHashesThatAreNotEightBytesAndAStaleLength() {
        long task = broadcast();
        LuaScript append = LuaScript.load("ack-set-append");
        String[] keys = {Keys.task(task), Keys.taskAckSet(task)};
        CompletionException e = assertThrows(CompletionException.class,
                () -> append.<Long>run(redis.async(), ScriptOutputType.INTEGER, keys, "0", "1234567").join());
        assertTrue(e.getCause().getMessage().contains("not 8 bytes"), e.getCause().getMessage());
        assertEquals(8L, append.<Long>run(redis.async(), ScriptOutputType.INTEGER, keys, "0", "12345678").join());
        assertEquals(-2L - 8, append.<Long>run(redis.async(), ScriptOutputType.INTEGER, keys, "0", "abcdefgh").join(),
                "a caller that read no device is told the string's length, and nothing is appended");
        assertEquals(1, delivered(task));
    }

    @Test
    void devicesOfAFailedAppendAreNotHeldAsCounted() {
        long task = broadcast();
        CountedDevices node = new CountedDevices(redis, 100_000);
        redis.async().rpush(Keys.taskAckSet(task), "not a string").toCompletableFuture().join();
        assertThrows(CompletionException.class, () -> node.add(task, devices(0, 10)).join(), "APPEND to a list fails");
        assertEquals(0, node.held());
        redis.async().del(Keys.taskAckSet(task)).toCompletableFuture().join();
        assertEquals(10, node.add(task, devices(0, 10)).join().length, "the failed devices count on their next ack");
        assertEquals(10, delivered(task));
    }

    @Test
    void aRedisThatLostItsScriptsIsSentTheScriptAgain() {
        long task = broadcast();
        CountedDevices node = new CountedDevices(redis, 100_000);
        assertEquals(10, node.add(task, devices(0, 10)).join().length);
        redis.async().scriptFlush().toCompletableFuture().join(); // as after a restart
        assertEquals(10, node.add(task, devices(0, 20)).join().length);
        assertEquals(20, delivered(task));
    }
}
