package io.tern.store.tag;

import io.tern.store.TestRedis;
import io.tern.store.redis.RedisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tag sets against a real Redis. Each test uses its own appId. */
class TagRepositoryIT {
    private static RedisStore redis;
    private static TagRepository tags;

    @BeforeAll
    static void connect() {
        redis = RedisStore.connect(TestRedis.uri(), Duration.ofSeconds(2));
        tags = new TagRepository(redis);
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static String app() {
        return "app-" + UUID.randomUUID();
    }

    @Test
    void addRemoveAndMembershipAreIdempotentAndPerApp() {
        String app = app();
        assertEquals(2L, tags.add(app, "news", List.of("a", "b")).join());
        assertEquals(1L, tags.add(app, "news", List.of("b", "c")).join(), "b was already in");
        assertEquals(List.of(true, false, true, true), tags.members(app, "news", List.of("a", "x", "b", "c")).join());
        assertEquals(List.of(false), tags.members(app(), "news", List.of("a")).join(), "another app's tag");
        assertEquals(1L, tags.remove(app, "news", List.of("a", "zz")).join());
        assertEquals(2L, tags.size(app, "news").join());
        assertEquals(0L, tags.size(app, "other").join());
    }

    @Test
    void listsLongerThanOneCommandAreSplitAndStillAnsweredInOrder() {
        String app = app();
        List<String> many = IntStream.range(0, 2500).mapToObj(i -> "r" + i).toList();
        assertEquals(2500L, tags.add(app, "big", many).join());
        List<String> probe = new ArrayList<>(many.subList(0, 1500));
        probe.add("absent");
        List<Boolean> in = tags.members(app, "big", probe).join();
        assertEquals(1501, in.size());
        assertTrue(in.subList(0, 1500).stream().allMatch(b -> b));
        assertEquals(false, in.get(1500));
    }

    @Test
    void scanStreamsEveryMemberInChunks() {
        String app = app();
        List<String> many = IntStream.range(0, 3000).mapToObj(i -> "r" + i).toList();
        tags.add(app, "t", many).join();
        Set<String> seen = new HashSet<>();
        String cursor = TagChunk.START;
        int steps = 0;
        TagChunk chunk;
        do {
            chunk = tags.scan(app, "t", cursor, 500).join();
            seen.addAll(chunk.regIds());
            cursor = chunk.cursor();
            steps++;
        } while (!chunk.finished() && steps < 1000);
        assertEquals(new HashSet<>(many), seen);
        assertTrue(steps > 1, "more than one chunk");
    }

    @Test
    void badTagNamesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> tags.add(app(), "has space", List.of("a")));
        assertThrows(IllegalArgumentException.class, () -> tags.size(app(), ""));
        assertThrows(IllegalArgumentException.class, () -> tags.scan(app(), "t", TagChunk.START, 0));
    }
}
