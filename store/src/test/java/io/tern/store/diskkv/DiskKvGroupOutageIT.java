package io.tern.store.diskkv;

import io.tern.devstack.SharedInfra;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.broadcast.BroadcastEntry;
import io.tern.store.task.TaskBody;
import io.tern.store.task.TaskBodyJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What group pushes keep in the disk KV for a Redis outage, against the disk KV's stand-in. */
class DiskKvGroupOutageIT {
    private static DiskKv disk;
    private final String app = "dk-" + UUID.randomUUID().toString().substring(0, 8);
    private final long now = System.currentTimeMillis();

    @BeforeAll
    static void connect() {
        disk = DiskKv.connect(SharedInfra.diskKv().uri(), Duration.ofSeconds(2));
    }

    @AfterAll
    static void close() {
        disk.close();
    }

    private static long newTaskId() {
        return Math.abs(UUID.randomUUID().getMostSignificantBits() >> 2) + 1;
    }

    private void putBody(long taskId, String payload, long expiresAt) {
        TaskBody b = new TaskBody(taskId, app, PayloadKind.NOTIFICATION, payload, now, expiresAt, null, null, 0);
        disk.putBody(taskId, new String(TaskBodyJson.write(b), StandardCharsets.UTF_8), expiresAt, now).join();
    }

    @Test
    void outageBroadcastSequencesContinueThoseCopiedFromRedisAndCatchUpReadsLiveBodiesAfterASequence() {
        long t1 = newTaskId();
        long t2 = newTaskId();
        long gone = newTaskId();
        putBody(t1, "{\"a\":1}", now + 60_000);
        putBody(t2, "{\"a\":2}", now + 60_000);
        // Redis numbered these 7 and 8 before the outage; a copy may arrive out of order.
        disk.logBroadcast(app, 8, t2, 100).join();
        disk.logBroadcast(app, 7, t1, 100).join();
        long next = disk.nextBroadcastSeq(app).join();
        assertEquals(9, next, "an outage broadcast continues the app's sequence");
        disk.logBroadcast(app, next, gone, 100).join(); // its body never reached the disk KV (or was recalled)

        List<BroadcastEntry> all = disk.broadcastsSince(app, 0, now, 10).join();
        assertEquals(List.of(7L, 8L), all.stream().map(BroadcastEntry::seq).toList());
        assertEquals(t1, all.get(0).taskId());
        assertEquals("{\"a\":1}", all.get(0).payload());
        assertEquals(List.of(8L), disk.broadcastsSince(app, 7, now, 10).join().stream().map(BroadcastEntry::seq).toList());
        assertEquals(List.of(), disk.broadcastsSince(app, 7, now + 120_000, 10).join(), "expired bodies are not handed out");
    }

    @Test
    void theLogKeepsItsNewestEntries() {
        for (int seq = 1; seq <= 5; seq++) {
            disk.logBroadcast(app, seq, seq, 3).join();
        }
        assertEquals(List.of(3L, 4L, 5L), disk.broadcastsAfter(app, 0, 10).join().stream()
                .map(DiskKv.LoggedBroadcast::seq).toList());
    }

    @Test
    void anOutagePushRecordAddsUpAndIsClaimedByOneReconcilerOnly() {
        long task = newTaskId();
        disk.recordOutagePush(task, Map.of("targeted", 3L, "sent", 2L, "offline", 1L), List.of("r1"), List.of("r2", "r3"), null).join();
        disk.recordOutagePush(task, Map.of("targeted", 2L, "sent", 2L), List.of(), List.of(), app).join();
        assertTrue(disk.outageTasks().join().contains(task));
        DiskKv.OutagePush rec = disk.outagePush(task).join();
        assertEquals(Map.of("targeted", 5L, "sent", 4L, "offline", 1L), rec.counterDeltas());
        assertEquals(List.of("r1"), rec.offline());
        assertEquals(List.of("r2", "r3"), rec.written());
        assertEquals(app, rec.broadcastAppId());

        assertTrue(disk.claimOutagePush(task).join());
        assertFalse(disk.claimOutagePush(task).join(), "a second reconciler does not get it");
        disk.returnOutagePush(task).join();
        assertTrue(disk.outageTasks().join().contains(task), "returned for the next run");
        assertTrue(disk.claimOutagePush(task).join());
        disk.forgetOutagePush(task).join();
        assertFalse(disk.outageTasks().join().contains(task));
        assertEquals(Map.of(), disk.outagePush(task).join().counterDeltas());
        assertNull(disk.outagePush(task).join().broadcastAppId());
    }
}
