package io.tern.broker.ack;

import io.tern.store.topic.AckRecord;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BroadcastAckCountsTest {
    private final AtomicLong nanos = new AtomicLong();
    private final List<BroadcastAckCounts.Pending> sent = new ArrayList<>();

    private BroadcastAckCounts counts(int capacity) {
        return new BroadcastAckCounts("b1", "77", capacity, Duration.ofSeconds(10), nanos::get, () -> 5_000L);
    }

    private List<AckRecord> flush(BroadcastAckCounts c) {
        sent.clear();
        c.flush(p -> sent.add(p));
        return sent.stream().map(BroadcastAckCounts.Pending::record).toList();
    }

    private static void ack(BroadcastAckCounts c, long msgId, int n) {
        for (int i = 0; i < n; i++) {
            assertTrue(c.count(msgId));
        }
    }

    @Test
    void onlyRegisteredBroadcastsAreCounted() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        assertTrue(c.count(10));
        assertFalse(c.count(11), "a single push or a copy that is not counted goes per device");
    }

    @Test
    void aFlushSendsOneCumulativeRecordPerBroadcastThatMoved() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        c.register("app", 20);
        ack(c, 10, 3);
        assertEquals(List.of(AckRecord.count("app", 10, 5_000, "b1", "b1:77:1", 3)), flush(c));
        assertEquals(List.of(), flush(c), "nothing moved");
        ack(c, 10, 2);
        ack(c, 20, 1);
        assertEquals(List.of(AckRecord.count("app", 10, 5_000, "b1", "b1:77:1", 5),
                AckRecord.count("app", 20, 5_000, "b1", "b1:77:2", 1)), flush(c));
        assertEquals(6, c.counted());
    }

    @Test
    void aCounterPastItsWindowRetiresWithItsFinalTotalAndLaterAcksGoPerDevice() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        ack(c, 10, 4);
        nanos.set(Duration.ofSeconds(10).toNanos());
        List<AckRecord> out = flush(c);
        assertEquals(List.of(AckRecord.count("app", 10, 5_000, "b1", "b1:77:1", 4)), out);
        assertFalse(c.count(10));
        assertEquals(0, c.active());
        assertEquals(1, c.unconfirmed(), "kept until Kafka confirms its final total");
        sent.get(0).confirmed();
        assertEquals(0, c.unconfirmed());
    }

    @Test
    void theOldestCounterRetiresWhenTheTableIsFull() {
        BroadcastAckCounts c = counts(2);
        c.register("app", 1);
        c.register("app", 2);
        ack(c, 1, 1);
        c.register("app", 3);
        assertFalse(c.count(1));
        assertTrue(c.count(2));
        assertTrue(c.count(3));
        assertEquals(List.of(AckRecord.count("app", 1, 5_000, "b1", "b1:77:1", 1),
                AckRecord.count("app", 2, 5_000, "b1", "b1:77:2", 1),
                AckRecord.count("app", 3, 5_000, "b1", "b1:77:3", 1)),
                flush(c).stream().sorted((a, b) -> Long.compare(a.msgId(), b.msgId())).toList());
    }

    @Test
    void retireAllHandsOverEveryPendingCountForShutdown() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        c.register("app", 20);
        ack(c, 10, 7);
        ack(c, 20, 2);
        flush(c);
        ack(c, 10, 1);
        c.retireAll();
        assertFalse(c.count(10));
        assertEquals(List.of(AckRecord.count("app", 10, 5_000, "b1", "b1:77:1", 8)), flush(c));
    }

    @Test
    void aCountKafkaRefusedIsSentAgainWithTheSameOrAHigherTotal() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        ack(c, 10, 3);
        flush(c);
        sent.get(0).failed();
        assertEquals(List.of(AckRecord.count("app", 10, 5_000, "b1", "b1:77:1", 3)), flush(c));
        c.flush(p -> false); // the producer would not take it now
        ack(c, 10, 1);
        assertEquals(List.of(AckRecord.count("app", 10, 5_000, "b1", "b1:77:1", 4)), flush(c));
        assertEquals(4, c.counted(), "a resend is not counted twice");
    }

    @Test
    void registeringTheSameBroadcastAgainKeepsItsCounter() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        ack(c, 10, 2);
        c.register("app", 10);
        ack(c, 10, 1);
        assertEquals(List.of(AckRecord.count("app", 10, 5_000, "b1", "b1:77:1", 3)), flush(c));
    }

    @Test
    void capacityZeroCountsNothing() {
        BroadcastAckCounts c = counts(0);
        c.register("app", 10);
        assertFalse(c.count(10));
    }

    @Test
    void everyAckIsEitherCountedOrSentPerDeviceWhileCountersRetireUnderConcurrentAcks() throws Exception {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        int threads = 4;
        int perThread = 200_000;
        AtomicLong perDevice = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ackers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    if (!c.count(10)) {
                        perDevice.incrementAndGet();
                    }
                }
            });
            th.start();
            ackers.add(th);
        }
        start.countDown();
        long published = 0;
        for (int i = 0; i < 20; i++) {
            for (AckRecord r : flush(c)) {
                published = Math.max(published, r.total());
            }
        }
        c.retireAll();
        for (Thread th : ackers) {
            th.join();
        }
        for (AckRecord r : flush(c)) {
            published = Math.max(published, r.total());
        }
        assertEquals((long) threads * perThread, published + perDevice.get());
    }
}
