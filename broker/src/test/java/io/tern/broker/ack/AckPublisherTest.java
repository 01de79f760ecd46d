package io.tern.broker.ack;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.store.topic.AckRecord;
import io.tern.store.topic.DeviceHash;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AckPublisherTest {

    private static AckPublisher unstarted(int capacity, SimpleMeterRegistry registry) {
        return new AckPublisher("b1", capacity, new BroadcastAckCounts("b1", 4, Duration.ofSeconds(10), 64, 64,
                System::nanoTime, System::currentTimeMillis), Duration.ofMillis(100), Duration.ofMillis(100),
                new BrokerMetrics(registry));
    }

    @Test
    void aFullQueueRefusesWithoutDroppingAndHoldsTheWaitingConnectionUntilThereIsRoom() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // Not started: Kafka confirms nothing, so every place stays taken.
        AckPublisher acks = unstarted(2, registry);
        assertTrue(acks.offer(new AckRecord("a", "r", 1, 0, "b1")));
        assertTrue(acks.offer(new AckRecord("a", "r", 2, 0, "b1")));
        assertFalse(acks.offer(new AckRecord("a", "r", 3, 0, "b1")), "no room: the caller keeps it");
        AtomicBoolean resumed = new AtomicBoolean();
        acks.whenRoom(() -> resumed.set(true));
        assertFalse(resumed.get(), "not resumed while every place is taken");
        assertEquals(2, acks.queued());
        assertEquals(0.0, registry.get("tern.broker.acks.dropped").counter().count());
        assertEquals(2.0, registry.get("tern.broker.acks.queued").gauge().value());
        assertEquals(1.0, registry.get("tern.broker.acks.waiting").gauge().value());
        acks.close(Duration.ZERO);
    }

    @Test
    void afterCloseAcksAreRefused() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AckPublisher acks = unstarted(10, registry);
        acks.close(Duration.ZERO);
        assertFalse(acks.offer(new AckRecord("a", "r", 1, 0, "b1")));
        assertFalse(acks.countBroadcast(1, DeviceHash.of("r")));
    }

    @Test
    void theProducerIsDurableAndBatching() {
        Properties p = AckPublisher.producerProperties("b1", "127.0.0.1:9092", Duration.ofMillis(5), Duration.ofSeconds(30));
        assertEquals("all", p.get("acks"));
        assertEquals("true", p.get("enable.idempotence"));
        assertEquals("5", p.get("linger.ms"));
        assertEquals("lz4", p.get("compression.type"));
        assertEquals("30000", p.get("delivery.timeout.ms"), "bounded: an ack Kafka did not take comes back to be sent again");
    }
}
