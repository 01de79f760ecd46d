package io.tern.broker.ack;

import io.tern.store.topic.DeviceHash;
import io.tern.store.topic.AckRecord;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BroadcastAckCountsTest {
    private final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    private final List<BroadcastAckCounts.Pending> sent = new ArrayList<>();

    private BroadcastAckCounts counts(int capacity) {
        return counts(capacity, 1000, 1000);
    }

    private BroadcastAckCounts counts(int capacity, int buffer, int recordMax) {
        return new BroadcastAckCounts("b1", capacity, Duration.ofSeconds(10), buffer, recordMax, nanos::get, () -> 5_000L);
    }

    private List<AckRecord> flush(BroadcastAckCounts c) {
        sent.clear();
        c.flush(p -> sent.add(p));
        return sent.stream().map(BroadcastAckCounts.Pending::record).toList();
    }

    private static long[] hashes(String prefix, int from, int to) {
        return IntStream.range(from, to).mapToLong(i -> DeviceHash.of(prefix + i)).toArray();
    }

    private static void ack(BroadcastAckCounts c, long msgId, String prefix, int from, int to) {
        for (int i = from; i < to; i++) {
            assertTrue(c.count(msgId, DeviceHash.of(prefix + i)));
        }
    }

    private static AckRecord record(long msgId, long[] hashes) {
        return AckRecord.count("app", msgId, 5_000, "b1", hashes);
    }

    @Test
    void onlyRegisteredBroadcastsAreCounted() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        assertTrue(c.count(10, DeviceHash.of("d")));
        assertFalse(c.count(11, DeviceHash.of("d")), "a single push or a copy that is not counted goes per device");
    }

    @Test
    void aFlushSendsTheDevicesThatAckedSinceTheLastOnePerBroadcast() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        c.register("app", 20);
        ack(c, 10, "d", 0, 3);
        assertEquals(List.of(record(10, hashes("d", 0, 3))), flush(c));
        assertEquals(List.of(), flush(c), "nothing moved");
        ack(c, 10, "d", 3, 5);
        ack(c, 20, "d", 0, 1);
        assertEquals(List.of(record(10, hashes("d", 3, 5)), record(20, hashes("d", 0, 1))), flush(c));
        assertEquals(6, c.counted());
    }

    @Test
    void aFullBufferSendsFurtherAcksPerDeviceUntilTheNextFlush() {
        BroadcastAckCounts c = counts(4, 3, 1000);
        c.register("app", 10);
        ack(c, 10, "d", 0, 3);
        assertFalse(c.count(10, DeviceHash.of("d3")), "no room: per device");
        assertEquals(List.of(record(10, hashes("d", 0, 3))), flush(c));
        assertTrue(c.count(10, DeviceHash.of("d4")), "a fresh buffer after the flush");
    }

    @Test
    void recordsHoldAtMostRecordMaxDevices() {
        BroadcastAckCounts c = counts(4, 1000, 2);
        c.register("app", 10);
        ack(c, 10, "d", 0, 5);
        assertEquals(List.of(record(10, hashes("d", 0, 2)), record(10, hashes("d", 2, 4)), record(10, hashes("d", 4, 5))),
                flush(c));
    }

    @Test
    void aCounterPastItsWindowRetiresWithItsLastDevicesAndLaterAcksGoPerDevice() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        ack(c, 10, "d", 0, 4);
        nanos.set(Duration.ofSeconds(10).toNanos());
        assertEquals(List.of(record(10, hashes("d", 0, 4))), flush(c));
        assertFalse(c.count(10, DeviceHash.of("d9")));
        assertEquals(0, c.active());
        assertEquals(1, c.unconfirmed(), "kept until Kafka confirms its last devices");
        sent.get(0).confirmed();
        assertEquals(0, c.unconfirmed());
    }

    @Test
    void theOldestCounterRetiresWhenTheTableIsFull() {
        BroadcastAckCounts c = counts(2);
        c.register("app", 1);
        c.register("app", 2);
        ack(c, 1, "d", 0, 1);
        c.register("app", 3);
        assertFalse(c.count(1, DeviceHash.of("d1")));
        assertTrue(c.count(2, DeviceHash.of("d0")));
        assertTrue(c.count(3, DeviceHash.of("d0")));
        assertEquals(List.of(record(1, hashes("d", 0, 1)), record(2, hashes("d", 0, 1)), record(3, hashes("d", 0, 1))),
                flush(c).stream().sorted((a, b) -> Long.compare(a.msgId(), b.msgId())).toList());
    }

    @Test
    void retireAllHandsOverEveryPendingDeviceForShutdown() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        c.register("app", 20);
        ack(c, 10, "d", 0, 7);
        ack(c, 20, "d", 0, 2);
        flush(c);
        ack(c, 10, "d", 7, 8);
        c.retireAll();
        assertFalse(c.count(10, DeviceHash.of("d9")));
        assertEquals(List.of(record(10, hashes("d", 7, 8))), flush(c));
    }

    @Test
    void devicesOfARecordKafkaRefusedAreSentAgain() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        ack(c, 10, "d", 0, 3);
        flush(c);
        sent.get(0).failed();
        assertEquals(List.of(record(10, hashes("d", 0, 3))), flush(c));
        sent.get(0).failed();
        c.flush(p -> false); // the producer would not take it now
        ack(c, 10, "d", 3, 4);
        assertEquals(List.of(record(10, hashes("d", 0, 3)), record(10, hashes("d", 3, 4))), flush(c));
    }

    @Test
    void registeringTheSameBroadcastAgainKeepsItsCounter() {
        BroadcastAckCounts c = counts(4);
        c.register("app", 10);
        ack(c, 10, "d", 0, 2);
        c.register("app", 10);
        ack(c, 10, "d", 2, 3);
        assertEquals(List.of(record(10, hashes("d", 0, 3))), flush(c));
    }

    @Test
    void capacityZeroCountsNothing() {
        BroadcastAckCounts c = counts(0);
        c.register("app", 10);
        assertFalse(c.count(10, DeviceHash.of("d")));
    }

    @Test
    void everyAckIsEitherInExactlyOneRecordOrSentPerDeviceWhileBuffersSwapAndCountersRetire() throws Exception {
        BroadcastAckCounts c = counts(4, 512, 100);
        c.register("app", 10);
        int threads = 4;
        int perThread = 50_000;
        Set<String> perDevice = ConcurrentHashMap.newKeySet();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ackers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    String reg = "t" + thread + "-" + i;
                    if (!c.count(10, DeviceHash.of(reg))) {
                        perDevice.add(reg);
                    }
                }
            });
            th.start();
            ackers.add(th);
        }
        start.countDown();
        List<Long> inRecords = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            flush(c).forEach(r -> Arrays.stream(r.deviceHashes()).forEach(inRecords::add));
        }
        c.retireAll();
        for (Thread th : ackers) {
            th.join();
        }
        flush(c).forEach(r -> Arrays.stream(r.deviceHashes()).forEach(inRecords::add));
        Set<Long> expected = new HashSet<>();
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                String reg = "t" + t + "-" + i;
                if (!perDevice.contains(reg)) {
                    expected.add(DeviceHash.of(reg));
                }
            }
        }
        assertEquals(expected.size(), inRecords.size(), "no counted ack twice");
        assertEquals(expected, new HashSet<>(inRecords), "every counted ack in a record, the rest per device");
    }
}
