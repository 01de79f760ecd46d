package io.tern.store.diskkv;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Aside records on the disk-KV stand-in: written, listed oldest first, updated in place, forgotten. */
class DiskKvAsideIT {
    private static DiskKv kv;

    @BeforeAll
    static void connect() {
        kv = DiskKv.connect(SharedInfra.diskKv().uri(), Duration.ofSeconds(2));
    }

    @AfterAll
    static void close() {
        kv.close();
    }

    private static AsideMessage message(long msgId, long createdAt) {
        return new AsideMessage(new NewMessage(msgId, "app", "reg", PayloadKind.DATA, "{\"n\":1}", createdAt,
                createdAt + 60_000, null, null, null), MessageStatus.ACCEPTED);
    }

    @Test
    void asideRecordsAreListedOldestFirstUpdatedInPlaceAndForgotten() {
        long now = System.currentTimeMillis();
        long base = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
        // Scores far in the past: listed before anything another test left (they share the stand-in).
        AsideMessage older = message(base, 1);
        AsideMessage newer = message(base + 1, 2);
        kv.putAside(newer, now).join();
        kv.putAside(older, now).join();
        kv.putAside(older.withStatus(MessageStatus.SENT), now).join();

        List<DiskKv.Queued> listed = kv.aside(2).join();
        assertEquals(List.of(base, base + 1), listed.stream().map(DiskKv.Queued::msgId).toList());
        assertEquals(MessageStatus.SENT, AsideMessage.fromJson(listed.get(0).json()).status(), "updated in place");
        assertEquals(newer, AsideMessage.fromJson(kv.asideRecord(base + 1).join()));

        kv.forgetAside(List.of(base, base + 1)).join();
        assertNull(kv.asideRecord(base).join());
        assertTrue(kv.aside(100).join().stream().noneMatch(q -> q.msgId() == base || q.msgId() == base + 1));
    }
}
